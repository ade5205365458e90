// Where listen's CPU per delivery goes, measured on a real listen process under load (not run by
// `npm run bench`: it profiles, it does not compare):
//   npm run build && node test/bench/listen-profile.mjs [listen|listen-forward|verify-journal|relay|bare] [deliveries]
// The server runs as its own process with --cpu-prof (500 µs sampling) while this process sends
// it signed deliveries over 32 keep-alive connections (as listen.bench.mjs does; with forwarding,
// to the bare app). The CPU each thread of the server used is read from /proc; the main
// thread's is split by where its samples were: each sample goes to the innermost gemwh (or
// undici) frame on its stack, so node:http's own work (parsing, the answer's write(2)) shows
// under the gemwh function that caused it, and what ran with no gemwh frame above it is the
// event loop and node:http on their own. GC helper threads are counted apart.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startServerProcess, stopServerProcess } from './server-processes.mjs';

const dist = process.env.BENCH_DIST ?? fileURLToPath(new URL('../../dist/', import.meta.url));
const distUrl = `file://${dist.endsWith('/') ? dist : `${dist}/`}`;
const { sign } = await import(new URL('core/standard-webhooks.js', distUrl).href);
const REFERENCE_SERVERS = fileURLToPath(new URL('reference-servers.mjs', import.meta.url));
const [which = 'listen', count = '20000'] = process.argv.slice(2);
const N = Number(count);
const WARMUP = 3000;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const home = mkdtempSync(join(tmpdir(), 'gemwh-listen-profile-'));
process.on('exit', () => rmSync(home, { recursive: true, force: true }));

const ts = Math.floor(Date.now() / 1000);
const prepared = Array.from({ length: N + WARMUP }, (_, n) => {
  const id = `msg_profile_${process.pid}_${n}`;
  const body = JSON.stringify({ type: 'batch.succeeded', version: 'v1', timestamp: '2026-05-04T12:00:00Z', data: { id: `batches/${id}`, output_file_uri: 'files/batch-output-abc123' } });
  return { body, headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(id, ts, body, SECRET) } };
});

const start = (args, nodeFlags = []) => startServerProcess(args, { nodeFlags, cwd: home, env: { ...process.env, XDG_STATE_HOME: join(home, 'state') } });

const requests = (child) => new Promise((resolve) => (child.once('message', resolve), child.send('count')));
const PROFILE = ['--cpu-prof', '--cpu-prof-interval', '500', '--cpu-prof-dir', home];
const forwards = which === 'listen-forward' || which === 'relay';
const app = forwards ? await start([REFERENCE_SERVERS, 'bare']) : undefined;
const listenArgs = [join(dist, 'cli.js'), 'listen', '--port', '0', '--json', '--secret', SECRET, '--journal', join(home, 'journal.ndjson')];
const server = await {
  listen: () => start(listenArgs, PROFILE),
  'listen-forward': () => start([...listenArgs, '--forward', app.url], PROFILE),
  // The reference servers do not stop on SIGTERM by themselves; the profile is written on exit.
  'verify-journal': () => start([REFERENCE_SERVERS, 'verify-journal', join(home, 'reference.ndjson'), dist, SECRET], [...PROFILE, '--import', 'data:text/javascript,process.on("SIGTERM",()=>process.exit(0))']),
  relay: () => start([REFERENCE_SERVERS, 'relay', app.url], [...PROFILE, '--import', 'data:text/javascript,process.on("SIGTERM",()=>process.exit(0))']),
  bare: () => start([REFERENCE_SERVERS, 'bare'], [...PROFILE, '--import', 'data:text/javascript,process.on("SIGTERM",()=>process.exit(0))']),
}[which]();

const TICK_US = 1e6 / 100;
/** CPU µs per thread of a process, by thread name and id. */
function threads(pid) {
  const result = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      result.set(`${tid} ${name}`, (Number(fields[11]) + Number(fields[12])) * TICK_US);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return result;
}

const pool = new Pool(new URL(server.url).origin, { connections: 32, pipelining: 1 });
let next = 0;
async function load(n) {
  let left = n;
  const worker = async () => {
    while (left-- > 0) {
      const d = prepared[next++];
      const response = await pool.request({ path: new URL(server.url).pathname, method: 'POST', headers: d.headers, body: d.body });
      await response.body.dump();
      if (response.statusCode !== 200) throw new Error(`answered ${response.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  if (app) while ((await requests(app.child)) < next) await new Promise((resolve) => setTimeout(resolve, 2));
}

await load(WARMUP);
const before = threads(server.child.pid);
const started = performance.now();
await load(N);
const seconds = (performance.now() - started) / 1000;
const after = threads(server.child.pid);
const mainTid = String(server.child.pid);
let main = 0;
let helpers = 0;
for (const [key, micros] of after) {
  const used = micros - (before.get(key) ?? 0);
  if (key.startsWith(`${mainTid} `)) main += used;
  else if (!key.includes('ProfEvntProc')) helpers += used;
}
await pool.close();
await stopServerProcess(server.child);

// The profile covers start-up and the warm-up too: only the samples taken during the measured
// load are counted (by their timestamps).
const file = readdirSync(home).find((name) => name.endsWith('.cpuprofile'));
const profile = JSON.parse(readFileSync(join(home, file), 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const profileStart = profile.startTime;
const profileEnd = profile.endTime;
// The load's share of the profile's time line: the last (seconds) before the server stopped, minus the stop itself.
const windowStart = profileEnd - (seconds + 0.05) * 1e6;

/** Which component a sample belongs to: the innermost gemwh or undici frame on its stack. */
const COMPONENTS = [
  [/listen\/receiver\.js (sendOk|sendAnswer)|reference-servers\.mjs ok$/, 'answer: writeHead + end (the write(2) of the answer)'],
  [/reference-servers\.mjs commit$/, 'journal: line (JSON) and group write(2)'],
  [/reference-servers\.mjs readBody$/, 'request facts, body read, header pairs'],
  [/http\/read-body\.js|listen\/receiver\.js|listen\/session\.js (handle|bodyRead|factsOf)/, 'request facts, body read, header pairs'],
  [/core\/(standard-webhooks|static-diagnosis|verify|headers)\.js|listen\/verification\.js|listen\/start-up\.js/, 'verification (HMAC and the steps around it)'],
  [/listen\/decision\.js (peekEventType)|core\/json-nesting/, 'event type (JSON.parse of the body)'],
  [/listen\/decision\.js|listen\/dedup\.js|listen\/delivery-cache\.js|listen\/routing\.js/, 'decision, dedup, delivery cache'],
  [/listen\/journal\.js|listen\/session-journal\.js/, 'journal: line (JSON) and group write(2)'],
  [/listen\/output\.js|listen\/run-listen\.js|core\/progress\.js|listen\/resume-progress\.js/, 'NDJSON events: JSON and the stdout write(2)'],
  [/listen\/event-bus\.js|listen\/session\.js (received)/, 'event objects and the bus'],
  [/listen\/session\.js/, 'session: settle and the steps between stages'],
  [/listen\/forward|http\/send\.js|undici\//, 'forwarding: queue, signing, undici sender'],
  [/reference-servers\.mjs/, 'reference handler: the verify call, the journal line (JSON), the relay dispatch'],
];
const shares = new Map();
// LISTEN_PROFILE_DETAIL=<start of a component's label> also lists the functions its samples were in (self time).
const detailOf = process.env.LISTEN_PROFILE_DETAIL;
const detail = new Map();
let counted = 0;
// timeDeltas[i] is the time since the previous sample: a sample's time is their running sum.
let at = profileStart;
for (let i = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i];
  if (at < windowStart) continue;
  const leaf = byId.get(profile.samples[i]).callFrame;
  if (leaf.functionName === '(idle)') continue;
  let label;
  if (leaf.functionName === '(garbage collector)') label = 'GC on the main thread';
  else if (leaf.functionName === '(program)') label = '(program): native code V8 could not attribute';
  for (let id = profile.samples[i]; label === undefined && id !== undefined; id = parent.get(id)) {
    const frame = byId.get(id).callFrame;
    const where = `${frame.url.replace(/.*\/(dist|bench|node_modules)\//, '')} ${frame.functionName}`;
    if (!frame.url.includes('/dist/') && !frame.url.includes('reference-servers') && !frame.url.includes('/undici/')) continue;
    label = COMPONENTS.find(([pattern]) => pattern.test(where))?.[1] ?? `other gemwh code (${where.split(' ')[0]})`;
  }
  label ??= 'node:http, streams and the event loop with no gemwh frame above';
  shares.set(label, (shares.get(label) ?? 0) + 1);
  if (detailOf && label.startsWith(detailOf)) {
    const where = `${leaf.functionName || '(anonymous)'} ${leaf.url.replace(/.*\/(dist|bench|node_modules)\//, '').replace(/^node:/, '')}:${leaf.lineNumber + 1}`;
    detail.set(where, (detail.get(where) ?? 0) + 1);
  }
  counted++;
}
const delivered = N;
console.log(`${which}: ${delivered.toLocaleString('en-US')} deliveries in ${seconds.toFixed(1)} s (${Math.round(delivered / seconds).toLocaleString('en-US')}/s, profiled)`);
console.log(`CPU per delivery: ${((main + helpers) / delivered).toFixed(0)} µs = main thread ${(main / delivered).toFixed(0)} µs + V8/libuv helper threads (GC, mostly) ${(helpers / delivered).toFixed(0)} µs (the profiler's own thread left out)`);
console.log('main thread, by component (its CPU split as its samples were):');
for (const [label, n] of [...shares].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${((main / delivered) * (n / counted)).toFixed(1).padStart(6)} µs  ${((100 * n) / counted).toFixed(1).padStart(5)}%  ${label}`);
}
if (detailOf) {
  console.log(`${detailOf}…, by the function each sample was in (top 40):`);
  for (const [where, n] of [...detail].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`  ${((main / delivered) * (n / counted)).toFixed(1).padStart(6)} µs  ${where}`);
}
process.exit(0);
