import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runMain } from '../../src/program.js';
import { makeTestDeps, runGemwh, type RunResult } from '../helpers/deps.js';
import { perTest } from '../helpers/per-test.js';
import { startGemwh } from '../helpers/start-gemwh.js';
import { sign } from '../../src/core/standard-webhooks.js';
import { header } from '../helpers/recording-server.js';
import { body, journalOldDelivery, post, signedHeaders } from '../listen/helpers.js';

// The config files and .env, run in-process with a real temporary project: precedence, the walk
// up to gemwh.json, --config, errors with file:line:column, .env, `config show` and a project
// file's forward target taking effect in listen.

const { sink, defer, emulator } = perTest();

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary tree: root/home/project (a git repository) with project/a/b inside it. */
function tree() {
  const root = mkdtempSync(join(tmpdir(), 'gemwh-config-'));
  dirs.push(root);
  const home = join(root, 'home');
  const project = join(home, 'project');
  const deep = join(project, 'a', 'b');
  mkdirSync(join(project, '.git'), { recursive: true });
  mkdirSync(deep, { recursive: true });
  return { root, home, project, deep };
}

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

interface Shown {
  files: { project: string | null; user: string | null; envFile: { path: string; added: string[] } | null };
  settings: Array<{ key: string; value: unknown; source: string; from?: string; line?: number; column?: number; envFile?: string; secret?: string | null }>;
}

async function show(args: string[], options: Parameters<typeof runGemwh>[1]): Promise<Shown & { run: RunResult }> {
  const run = await runGemwh([...args, 'config', 'show', '--json'], options);
  expect(run.code, run.stderr).toBe(0);
  return { ...(JSON.parse(run.stdout) as Shown), run };
}

function setting(shown: Shown, key: string) {
  const found = shown.settings.find((row) => row.key === key);
  if (!found) throw new Error(`no ${key} in ${JSON.stringify(shown.settings.map((row) => row.key))}`);
  return found;
}

describe('precedence: flags > environment > project file > user file > defaults', () => {
  it('takes each level in turn for the API root, and says where each value came from', async () => {
    const t = tree();
    // runGemwh's deps.paths.config is a fresh folder each run: these deps get a user file first.
    const showWith = async (args: string[], env: Record<string, string> = {}) => {
      const d = makeTestDeps({ cwd: t.deep, userHome: t.home, env });
      defer(() => d.cleanup());
      mkdirSync(d.deps.paths.config, { recursive: true });
      writeFileSync(join(d.deps.paths.config, 'config.json'), '{\n  "apiRoot": "http://127.0.0.1:1111"\n}\n');
      const code = await runMain([...args, 'config', 'show', '--json'], d.deps);
      expect(code, d.stderr()).toBe(0);
      return { shown: JSON.parse(d.stdout()) as Shown, userFile: join(d.deps.paths.config, 'config.json') };
    };

    // user file only
    let { shown, userFile } = await showWith([]);
    expect(setting(shown, 'apiRoot')).toMatchObject({ value: 'http://127.0.0.1:1111', source: 'user', from: userFile, line: 2, column: 14 });
    expect(setting(shown, 'apiVersion')).toMatchObject({ value: 'v1', source: 'default' });

    // the project file beats the user file
    writeFileSync(join(t.project, 'gemwh.json'), '{"apiRoot": "http://127.0.0.1:2222"}');
    ({ shown } = await showWith([]));
    expect(setting(shown, 'apiRoot')).toMatchObject({ value: 'http://127.0.0.1:2222', source: 'project', from: join(t.project, 'gemwh.json'), line: 1, column: 13 });

    // the environment beats the project file
    ({ shown } = await showWith([], { GEMWH_API_ROOT: 'http://127.0.0.1:3333' }));
    expect(setting(shown, 'apiRoot')).toMatchObject({ value: 'http://127.0.0.1:3333', source: 'env', from: 'GEMWH_API_ROOT' });

    // the flag beats everything
    ({ shown } = await showWith(['--api-root', 'http://127.0.0.1:4444'], { GEMWH_API_ROOT: 'http://127.0.0.1:3333' }));
    expect(setting(shown, 'apiRoot')).toMatchObject({ value: 'http://127.0.0.1:4444', source: 'flag', from: '--api-root' });
  });

  it('a project file apiRoot is the root a command really talks to', async () => {
    const t = tree();
    const emu = await emulator();
    writeFileSync(join(t.project, 'gemwh.json'), JSON.stringify({ apiRoot: emu.url }));
    // Only the file names the emulator: a webhook created through it is listed through it.
    const env = { GEMINI_API_KEY: emu.apiKey, GEMWH_SECRET_STORE: 'file' };
    const created = await runGemwh(['create', '--uri', 'https://hooks.example.com/g', '--events', 'batch.succeeded', '--json'], { cwd: t.deep, userHome: t.home, env });
    expect(created.code, created.stderr).toBe(0);
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    const run = await runGemwh(['list', '--json'], { cwd: t.deep, userHome: t.home, env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`"${id}"`);

    // The environment beats the file in the command itself, not only in `config show`.
    writeFileSync(join(t.project, 'gemwh.json'), JSON.stringify({ apiRoot: 'http://127.0.0.1:9', secretStore: 'keychain' }));
    const fromEnv = await runGemwh(['list', '--json'], { cwd: t.deep, userHome: t.home, env: { ...env, GEMWH_API_ROOT: emu.url } });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(fromEnv.stdout).toContain(`"${id}"`);
  });

  it('a user file setting applies when the project has none', async () => {
    const t = tree();
    const d = makeTestDeps({ cwd: t.deep, userHome: t.home });
    defer(() => d.cleanup());
    mkdirSync(d.deps.paths.config, { recursive: true });
    writeFileSync(join(d.deps.paths.config, 'config.json'), '{"listen": {"port": 9911}}');
    expect(await runMain(['config', 'show', '--json'], d.deps), d.stderr()).toBe(0);
    expect(setting(JSON.parse(d.stdout()) as Shown, 'listen.port')).toMatchObject({ value: '9911', source: 'user' });
  });
});

describe('finding the project file', () => {
  it('walks up from a subfolder to gemwh.json', async () => {
    const t = tree();
    writeFileSync(join(t.project, 'gemwh.json'), '{"listen": {"port": 9001}}');
    const shown = await show([], { cwd: t.deep, userHome: t.home });
    expect(shown.files.project).toBe(join(t.project, 'gemwh.json'));
    expect(setting(shown, 'listen.port')).toMatchObject({ value: '9001', source: 'project' });
  });

  it('stops at the repository root (.git) and never reads the home folder', async () => {
    const t = tree();
    // Above the repository: not the project's file.
    writeFileSync(join(t.root, 'gemwh.json'), '{"listen": {"port": 9002}}');
    let shown = await show([], { cwd: t.deep, userHome: t.home });
    expect(shown.files.project).toBeNull();
    expect(setting(shown, 'listen.port')).toMatchObject({ value: '8787', source: 'default' });

    // Without .git the walk goes on, but stops at the home folder, whose gemwh.json is not read.
    rmSync(join(t.project, '.git'), { recursive: true });
    writeFileSync(join(t.home, 'gemwh.json'), '{"listen": {"port": 9003}}');
    shown = await show([], { cwd: t.deep, userHome: t.home });
    expect(shown.files.project).toBeNull();
    // And without a home in the way it reaches the file above.
    shown = await show([], { cwd: t.deep });
    expect(shown.files.project).toBe(join(t.home, 'gemwh.json'));
  });

  it('--config uses that file instead of the project file, and a missing one is a usage error', async () => {
    const t = tree();
    writeFileSync(join(t.project, 'gemwh.json'), '{"listen": {"port": 9004}}');
    writeFileSync(join(t.root, 'ci.json'), '{"listen": {"events": "batch.*"}}');
    const shown = await show(['--config', '../../../../ci.json'], { cwd: t.deep, userHome: t.home });
    expect(shown.files.project).toBe(join(t.root, 'ci.json'));
    expect(setting(shown, 'listen.port')).toMatchObject({ value: '8787', source: 'default' });
    expect(setting(shown, 'listen.events')).toMatchObject({ value: ['batch.*'], source: 'project', from: join(t.root, 'ci.json') });

    const missing = await runGemwh(['--config', 'nope.json', 'events'], { cwd: t.deep });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('gemwh: --config nope.json: no such file');
  });
});

describe('mistakes in a config file name the file, line and column', () => {
  /** `config show` checks every value; `events` stands for any command (bad JSON, unknown keys and top-level values stop all). */
  async function failWith(content: string, args = ['config', 'show']): Promise<RunResult & { file: string }> {
    const t = tree();
    const file = join(t.project, 'gemwh.json');
    writeFileSync(file, content);
    const run = await runGemwh(args, { cwd: t.deep, userHome: t.home });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).not.toMatch(/^\s+at /m);
    return { ...run, file };
  }

  it('an unknown key, with did-you-mean', async () => {
    const { stderr, file } = await failWith('{\n  "listen": {\n    "port": 9000,\n    "forwrd": ["3000"]\n  }\n}\n', ['events']);
    expect(stderr).toContain(`gemwh: ${file}:4:5: unknown key "listen.forwrd" (did you mean "forward"?)`);
  });

  it('a listen setting at the top level, a kebab-case key, an API key', async () => {
    expect((await failWith('{"forward": "3000"}')).stderr).toContain(':1:2: "forward" is a setting of gemwh listen: put it in the "listen" section');
    expect((await failWith('{\n"api-root": "x"}')).stderr).toContain(':2:1: unknown key "api-root": keys are written in camelCase, "apiRoot"');
    expect((await failWith('{"apiKey": "AIza..."}')).stderr).toContain('"apiKey" is not accepted: an API key does not belong in a file');
  });

  it('a bad value, checked by the flag parsers: port, URL, event type, duration, type', async () => {
    expect((await failWith('{"listen": {\n  "port": 99999}}')).stderr).toContain(':2:11: listen.port must be a number from 0 to 65535, not "99999"');
    expect((await failWith('{"apiRoot": "ftp://x"}', ['events'])).stderr).toContain(':1:13: apiRoot must be an http or https URL');
    expect((await failWith('{"listen": {"events": ["batch.*",\n "video.generatd"]}}')).stderr).toContain(
      ':2:2: listen.events: unknown event type "video.generatd" (did you mean "video.generated"?)',
    );
    expect((await failWith('{"listen": {"route": {"batch.*": "localhost:3000", "nope.x": "3001"}}}')).stderr).toMatch(/:1:52: listen\.route: --route: unknown event type "nope\.x"/);
    expect((await failWith('{"listen": {"retryMax": "soon"}}')).stderr).toContain(':1:25: listen.retryMax: "soon" is not a duration');
    expect((await failWith('{"listen": {"forward": 3000}}')).stderr).toContain(':1:24: "listen.forward" must be a string or a list of strings, not the number 3000');
    expect((await failWith('{"listen": {"fsync": "yes"}}')).stderr).toContain('"listen.fsync" must be true or false, not the string "yes"');
    expect((await failWith('{"secretStore": "vault"}')).stderr).toContain('secretStore: "vault" is not a secret store');
  });

  it("a bad listen value stops listen, not the commands that do not use it", async () => {
    const t = tree();
    writeFileSync(join(t.project, 'gemwh.json'), '{"apiRoot": "http://127.0.0.1:9",\n "listen": {"tolerance": "a while"}}');
    const other = await runGemwh(['events', '--json'], { cwd: t.deep, userHome: t.home });
    expect(other.code, other.stderr).toBe(0);
    const listen = await runGemwh(['listen', '--port', '0'], { cwd: t.deep, userHome: t.home });
    expect(listen.code).toBe(2);
    expect(listen.stderr).toContain(`gemwh: ${join(t.project, 'gemwh.json')}:2:26: listen.tolerance: "a while" is not a duration`);
  });

  it('invalid JSON says file:line:column', async () => {
    expect((await failWith('{\n  "listen": {"port": 9000,}\n}', ['events'])).stderr).toContain(':2:27: invalid JSON: a trailing comma before "}" is not allowed in JSON');
    expect((await failWith("{'apiRoot': 1}")).stderr).toContain(':1:2: invalid JSON: expected a key in double quotes');
    expect((await failWith('[]')).stderr).toContain(':1:1: a gemwh config file holds one JSON object, not a list');
    expect((await failWith('{"apiRoot": "http://a:1", "apiRoot": "http://b:1"}')).stderr).toContain(':1:27: invalid JSON: "apiRoot" is given twice');
  });
});

describe('.env', () => {
  it('is read from the project root, adds variables and never replaces one already set', async () => {
    const t = tree();
    writeFileSync(join(t.project, 'gemwh.json'), '{"secretEnv": "APP_SECRET"}');
    writeFileSync(join(t.project, '.env'), `# the app's\nAPP_SECRET=${SECRET}\nGEMWH_API_ROOT=http://127.0.0.1:5555\nexport GEMWH_SECRET_STORE=file\n`);
    const shown = await show([], { cwd: t.deep, userHome: t.home, env: { GEMWH_API_ROOT: 'http://127.0.0.1:6666' } });
    expect(shown.files.envFile).toEqual({ path: join(t.project, '.env'), added: ['APP_SECRET', 'GEMWH_SECRET_STORE'] });
    expect(setting(shown, 'apiRoot')).toMatchObject({ value: 'http://127.0.0.1:6666', source: 'env', from: 'GEMWH_API_ROOT' });
    expect(setting(shown, 'apiRoot').envFile).toBeUndefined();
    expect(setting(shown, 'secretStore')).toMatchObject({ value: 'file', source: 'env', from: 'GEMWH_SECRET_STORE', envFile: join(t.project, '.env') });
    // The secret is named and recognisable, never printed whole.
    expect(setting(shown, 'secretEnv')).toMatchObject({ value: 'APP_SECRET', source: 'project', secret: 'whsec_…LaSw' });
    expect(shown.run.stdout).not.toContain(SECRET);
  });

  it('warns about a line that is not NAME=value, with file and line, and reads the rest', async () => {
    const t = tree();
    writeFileSync(join(t.deep, '.env'), 'GEMWH_API_ROOT=http://127.0.0.1:7777\nthis is not an assignment\nMULTI="one\ntwo"\n');
    const shown = await show([], { cwd: t.deep, userHome: t.home });
    expect(shown.run.stderr).toContain(`gemwh: warning: ${join(t.deep, '.env')}:2: not NAME=value: "this is not an assignment"; the line is ignored`);
    expect(shown.run.stderr).not.toContain(':3:');
    expect(setting(shown, 'apiRoot')).toMatchObject({ value: 'http://127.0.0.1:7777', source: 'env' });
  });

  it('--dotenv reads another file, and a missing one is a usage error', async () => {
    const t = tree();
    writeFileSync(join(t.root, 'ci.env'), 'GEMWH_API_ROOT=http://127.0.0.1:8888\n');
    const shown = await show(['--dotenv', join(t.root, 'ci.env')], { cwd: t.deep, userHome: t.home });
    expect(setting(shown, 'apiRoot')).toMatchObject({ value: 'http://127.0.0.1:8888', source: 'env', envFile: join(t.root, 'ci.env') });
    const missing = await runGemwh(['--dotenv', 'nope.env', 'events'], { cwd: t.deep });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--dotenv nope.env: no such file');
  });
});

describe('config show', () => {
  it('prints a table with each source; --api-key and env keys are redacted', async () => {
    const t = tree();
    writeFileSync(join(t.project, 'gemwh.json'), '{\n  "listen": {"forward": ["3000/hooks"]}\n}\n');
    const key = 'AIzaSyD-this-is-a-long-api-key-1234';
    const run = await runGemwh(['--api-key', key, 'config', 'show'], { cwd: t.deep, userHome: t.home });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain(key);
    const line = (name: string) => run.stdout.split('\n').find((row) => row.startsWith(`${name}\t`));
    expect(line('apiKey')).toBe('apiKey\tAIza…1234\tflag --api-key');
    expect(line('listen.forward')).toBe('listen.forward\t3000/hooks\tproject ~/project/gemwh.json:2:25');
    expect(line('listen.port')).toBe('listen.port\t8787\tdefault');
    expect(run.stderr).toContain('project file: ~/project/gemwh.json');
  });
});

describe('listen takes its settings from the project', () => {
  it('forwards to the project file’s target, verifying with the secret its .env holds', async () => {
    const t = tree();
    const app = await sink();
    writeFileSync(join(t.project, 'gemwh.json'), JSON.stringify({ secretEnv: 'APP_SECRET', listen: { forward: [`${app.url}/from-config`], events: ['batch.*'] } }, null, 2));
    writeFileSync(join(t.project, '.env'), `APP_SECRET=${SECRET}\n`);
    const listen = await startGemwh(['listen', '--port', '0', '--json', '--no-journal'], { cwd: t.deep, userHome: t.home, defer });
    const ready = JSON.parse(await listen.firstLine()) as { url: string };
    const raw = body('batch.succeeded');
    const answer = await post(ready.url, raw, signedHeaders(raw, { secret: SECRET }));
    expect(answer.status).toBe(200);
    await listen.until('the forward', () => app.requests.length > 0 || undefined);
    expect(app.requests[0]!.url).toBe('/from-config');
    expect(app.requests[0]!.body.toString()).toBe(raw);
    // events from the file: a video event is verified but not forwarded.
    const other = body('video.generated');
    expect((await post(ready.url, other, signedHeaders(other, { secret: SECRET }))).status).toBe(200);
    await listen.until('the second verdict', () => (listen.t.stdout().match(/"type":"verified"/g)?.length === 2 ? true : undefined));
    expect(app.requests).toHaveLength(1);
  });

  it('a flag replaces the file’s value, and --secret keeps the file’s secretEnv out', async () => {
    const t = tree();
    const fromFile = await sink();
    const fromFlag = await sink();
    // APP_SECRET is not set: were the file's secretEnv added to --secret, listen would refuse to start.
    writeFileSync(join(t.project, 'gemwh.json'), JSON.stringify({ secretEnv: 'APP_SECRET', listen: { forward: [fromFile.url] } }));
    const listen = await startGemwh(['listen', '--port', '0', '--json', '--no-journal', '--secret', SECRET, '--forward', fromFlag.url], { cwd: t.deep, userHome: t.home, defer });
    const ready = JSON.parse(await listen.firstLine()) as { url: string };
    const raw = body('batch.succeeded');
    expect((await post(ready.url, raw, signedHeaders(raw, { secret: SECRET }))).status).toBe(200);
    await listen.until('the forward', () => fromFlag.requests.length > 0 || undefined);
    expect(fromFile.requests).toHaveLength(0);
  });
});

describe('the top-level secretEnv in the commands that sign', () => {
  it('replay fixture signs with it, and --dynamic (its alternative) keeps it out', async () => {
    const t = tree();
    const app = await sink();
    writeFileSync(join(t.project, 'gemwh.json'), JSON.stringify({ secretEnv: 'APP_SECRET' }));
    writeFileSync(join(t.project, '.env'), `APP_SECRET=${SECRET}\n`);
    const run = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', app.url], { cwd: t.deep, userHome: t.home });
    expect(run.code, run.stderr).toBe(0);
    const sent = app.requests[0]!;
    const id = header(sent, 'webhook-id');
    const timestamp = Number(header(sent, 'webhook-timestamp'));
    expect(header(sent, 'webhook-signature')).toBe(sign(id, timestamp, sent.body, SECRET));

    // Were the file's secretEnv added, replay would refuse --dynamic beside a secret.
    const dynamic = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', app.url, '--dynamic'], { cwd: t.deep, userHome: t.home });
    expect(dynamic.code, dynamic.stderr).toBe(0);
    expect(app.requests).toHaveLength(2);
  });

  it('replay delivery takes it only to sign anew (--resign), as the flag is refused otherwise', async () => {
    const t = tree();
    const app = await sink();
    const journal = join(t.root, 'journal.ndjson');
    const original = await journalOldDelivery(journal);
    writeFileSync(join(t.project, 'gemwh.json'), JSON.stringify({ secretEnv: 'APP_SECRET' }));
    const other = 'whsec_' + Buffer.alloc(32, 3).toString('base64');
    writeFileSync(join(t.project, '.env'), `APP_SECRET=${other}\n`);
    const asRecorded = await runGemwh(['replay', 'delivery', 'msg_old', '--to', app.url, '--journal', journal], { cwd: t.deep, userHome: t.home });
    expect(asRecorded.code, asRecorded.stderr).toBe(0);
    expect(header(app.requests[0]!, 'webhook-signature')).toBe(original.headers['webhook-signature']);

    const resigned = await runGemwh(['replay', 'delivery', 'msg_old', '--to', app.url, '--journal', journal, '--resign'], { cwd: t.deep, userHome: t.home });
    expect(resigned.code, resigned.stderr).toBe(0);
    const sent = app.requests[1]!;
    expect(header(sent, 'webhook-signature')).toBe(sign(header(sent, 'webhook-id'), Number(header(sent, 'webhook-timestamp')), sent.body, other));
  });
});
