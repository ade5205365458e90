import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStatic } from '../../src/core/standard-webhooks.js';
import { parseTarget } from '../../src/flags/target.js';
import { runGemwh } from '../helpers/deps.js';
import { startRecordingServer, type RecordingServer } from '../helpers/recording-server.js';
import { SECRET, body, journalOldDelivery, post, signedHeaders, startTestSession } from '../listen/helpers.js';

let dir: string;
let journal: string;
/** Verifies signatures and the 5-minute window, as a careful app does. */
let app: RecordingServer;
/** An app that refuses everything with 400 (final: retrying cannot change it). */
let refusing: RecordingServer;
const raw: Record<string, string> = {};
const WRONG_SECRET = 'whsec_' + Buffer.alloc(24, 9).toString('base64');

// Hostile bytes for the exports: quotes, a newline, shell syntax and non-ASCII inside the JSON.
const TRICKY = JSON.stringify({ type: 'interaction.completed', version: 'v1', timestamp: '2026-05-04T12:00:00Z', data: { id: "it's\n$HOME `id` \\ é" } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gemwh-deliveries-'));
  journal = join(dir, 'journal.ndjson');
  app = await startRecordingServer((request) => {
    const verdict = verifyStatic({ rawBody: request.body, headers: request.headers, secrets: [{ secret: SECRET, label: 'app' }], now: Date.now() });
    return verdict.ok ? { status: 204 } : { status: 400, body: `app says: ${verdict.reason}` };
  });
  refusing = await startRecordingServer(() => ({ status: 400, body: 'app says: no thanks' }));

  // An old delivery, recorded 3 hours ago by an earlier listen.
  raw.msg_old = (await journalOldDelivery(journal)).raw;

  const forwardedOk = await startTestSession({ dir, forward: [parseTarget(app.url)] });
  raw.msg_alpha = body('batch.succeeded', 'alpha');
  raw.msg_tricky = TRICKY;
  for (const id of ['msg_alpha', 'msg_tricky']) {
    expect((await post(`${forwardedOk.session.url}hooks/gemini`, raw[id]!, signedHeaders(raw[id]!, { id }))).status).toBe(200);
  }
  await until(() => app.requests.length >= 2);
  await forwardedOk.stop();

  const forwardedBad = await startTestSession({ dir, forward: [parseTarget(refusing.url)] });
  raw.msg_beta = body('batch.failed', 'beta');
  expect((await post(`${forwardedBad.session.url}hooks/gemini`, raw.msg_beta, signedHeaders(raw.msg_beta, { id: 'msg_beta' }))).status).toBe(200);
  await until(() => refusing.requests.length >= 1);
  raw.msg_bad = body('batch.succeeded', 'bad');
  expect((await post(forwardedBad.session.url, raw.msg_bad, signedHeaders(raw.msg_bad, { id: 'msg_bad', secret: WRONG_SECRET }))).status).toBe(401);
  await forwardedBad.stop();
}, 30_000);

afterAll(async () => {
  await app.close();
  await refusing.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(test: () => boolean): Promise<void> {
  while (!test()) await new Promise((resolve) => setTimeout(resolve, 10));
}

const gemwh = (args: string[]) => runGemwh([...args, '--journal', journal]);

function tsvIds(stdout: string): string[] {
  return stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t')[1]!);
}

describe('gemwh deliveries list', () => {
  it('lists every recorded delivery newest first, as TSV in a pipe, with verdict and forward status', async () => {
    const { code, stdout } = await gemwh(['deliveries', 'list']);
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header).toBe('RECEIVED\tID\tKEY\tTYPE\tVERDICT\tFORWARD');
    expect(tsvIds(stdout)).toEqual(['msg_bad', 'msg_beta', 'msg_tricky', 'msg_alpha', 'msg_old']);
    expect(rows[0]).toMatch(/\trejected: no_matching_signature\t-$/);
    expect(rows[1]).toMatch(/\tbatch\.failed\tverified\tfailed 400$/);
    expect(rows[3]).toMatch(/\tverified\tok 204$/);
    expect(rows[4]).toMatch(/^\d{4}-\d\d-\d\dT.*\tmsg_old\told\.1\tbatch\.succeeded\tverified\t-$/);
  });

  it('filters by verdict, type, forward status, age and webhook; all filters must match', async () => {
    expect(tsvIds((await gemwh(['deliveries', 'list', '--verdict', 'rejected'])).stdout)).toEqual(['msg_bad']);
    expect(tsvIds((await gemwh(['deliveries', 'list', '--type', 'batch.*', '--verdict', 'verified'])).stdout)).toEqual(['msg_beta', 'msg_alpha', 'msg_old']);
    expect(tsvIds((await gemwh(['deliveries', 'list', '--forward-status', 'failed', '--forward-status', 'ok'])).stdout)).toEqual([
      'msg_beta',
      'msg_tricky',
      'msg_alpha',
    ]);
    expect(tsvIds((await gemwh(['deliveries', 'list', '--since', '1h', '--forward-status', 'none'])).stdout)).toEqual(['msg_bad']);
    // The test session verifies with a secret labelled wh_test, as the store labels a webhook's secret.
    expect(tsvIds((await gemwh(['deliveries', 'list', '--webhook', 'wh_test'])).stdout)).toEqual(['msg_beta', 'msg_tricky', 'msg_alpha']);
    expect(tsvIds((await gemwh(['deliveries', 'list', '--limit', '2'])).stdout)).toEqual(['msg_bad', 'msg_beta']);
  });

  it('--json prints camelCase records with the forward attempts; nothing matching is not an error', async () => {
    const { code, stdout } = await gemwh(['deliveries', 'list', '--json', '--type', 'batch.failed']);
    expect(code).toBe(0);
    const [beta, ...rest] = JSON.parse(stdout) as Array<Record<string, unknown>>;
    expect(rest).toEqual([]);
    expect(beta).toMatchObject({ webhookId: 'msg_beta', eventType: 'batch.failed', verdict: 'verified', forwardStatus: 'failed' });
    expect(beta!.forwards).toEqual([expect.objectContaining({ status: 400, ok: false, final: true, responseStart: 'app says: no thanks' })]);
    expect(beta).not.toHaveProperty('body');
    const none = await gemwh(['deliveries', 'list', '--type', 'video.*']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/No deliveries match/);
  });

  it('refuses bad filters with exit 2', async () => {
    const bad = await gemwh(['deliveries', 'list', '--verdict', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/verified, rejected, duplicate/);
    expect((await gemwh(['deliveries', 'list', '--forward-status', 'lost'])).code).toBe(2);
    expect((await gemwh(['deliveries', 'list', '--since', 'yesterday'])).code).toBe(2);
    expect((await gemwh(['deliveries', 'list', '--limit', '0'])).code).toBe(2);
  });
});

describe('gemwh deliveries show', () => {
  it('shows the verdict, every forward attempt with the answer, the headers and the body', async () => {
    const { code, stdout } = await gemwh(['deliveries', 'show', 'msg_beta']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Delivery msg_beta {2}key \S+\.1\n/);
    expect(stdout).toContain('✓ verified (static) with the secret of wh_test');
    expect(stdout).toMatch(/✗ attempt 1 → http:\/\/127\.0\.0\.1:\d+\/hooks\/gemini {2}400/);
    expect(stdout).toContain('app says: no thanks');
    expect(stdout).toContain('webhook-id: msg_beta');
    expect(stdout).toContain('"id": "beta"');
  });

  it('--last is the newest delivery of any verdict; a rejection carries its explanation', async () => {
    const { code, stdout } = await gemwh(['deliveries', 'show', '--last']);
    expect(code).toBe(0);
    expect(stdout).toContain('Delivery msg_bad');
    expect(stdout).toContain('✗ rejected: no_matching_signature (answered 401)');
    expect(stdout).toContain('none (only verified, first-seen deliveries are forwarded)');
  });

  it('takes a unique prefix of a webhook-id or key; an ambiguous one lists the candidates', async () => {
    expect((await gemwh(['deliveries', 'show', 'msg_al'])).stdout).toContain('Delivery msg_alpha');
    expect((await gemwh(['deliveries', 'show', 'old.'])).stdout).toContain('Delivery msg_old');
    const ambiguous = await gemwh(['deliveries', 'show', 'msg_b']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/"msg_b" matches 2 deliveries: msg_beta, msg_bad/);
    const unknown = await gemwh(['deliveries', 'show', 'msg_zzz']);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toMatch(/deliveries list/);
    expect((await gemwh(['deliveries', 'show'])).code).toBe(2);
    expect((await gemwh(['deliveries', 'show', 'msg_beta', '--last'])).code).toBe(2);
  });

  it('--json has the body exactly as received and the headers in order', async () => {
    const { stdout } = await gemwh(['deliveries', 'show', 'msg_tricky', '--json']);
    const shown = JSON.parse(stdout) as { body: string; bodyEncoding: string; headers: Array<[string, string]> };
    expect(shown.body).toBe(TRICKY);
    expect(shown.bodyEncoding).toBe('utf8');
    expect(shown.headers.find(([name]) => name === 'webhook-id')).toEqual(['webhook-id', 'msg_tricky']);
  });

  it('says so when there is no journal yet', async () => {
    const missing = await runGemwh(['deliveries', 'show', '--last', '--journal', join(dir, 'nope.ndjson')]);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toMatch(/holds no delivery/);
  });
});

describe('gemwh deliveries export', () => {
  it('--as http writes the request as received, which `verify --headers` checks whole', async () => {
    const file = join(dir, 'tricky.http');
    const exported = await gemwh(['deliveries', 'export', 'msg_tricky', '--as', 'http', '-o', file]);
    expect(exported.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const message = readFileSync(file);
    expect(message.toString()).toMatch(/^POST \/hooks\/gemini HTTP\/1\.1\r\n/);
    expect(message.subarray(message.length - Buffer.byteLength(TRICKY)).toString()).toBe(TRICKY);
    const verified = await runGemwh(['verify', '--headers', file, '--secret', SECRET]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('✓ valid static delivery msg_tricky');
  });

  it('--as curl re-sends the same bytes and headers, which the app verifies', async () => {
    const { code, stdout } = await gemwh(['deliveries', 'export', 'msg_tricky', '--as', 'curl', '--to', app.url]);
    expect(code).toBe(0);
    const before = app.requests.length;
    const result = await shell(stdout);
    expect(result.code).toBe(0);
    const got = app.requests.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]!.body.toString()).toBe(TRICKY);
    expect(got[0]!.headers['webhook-id']).toBe('msg_tricky');
    expect(got[0]!.url).toBe('/hooks/gemini');
  });

  it('--as fixture writes the JSON event that `replay fixture FILE` signs and sends', async () => {
    const file = join(dir, 'alpha.json');
    expect((await gemwh(['deliveries', 'export', 'msg_alpha', '--as', 'fixture', '--output', file])).code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(JSON.parse(raw.msg_alpha!));
    const before = app.requests.length;
    const sent = await runGemwh(['replay', 'fixture', file, '--to', app.url, '--secret', SECRET]);
    expect(sent.code).toBe(0);
    expect(JSON.parse(app.requests[before]!.body.toString())).toEqual(JSON.parse(raw.msg_alpha!));
  });

  it('refuses --to without --as curl, and an unknown format', async () => {
    expect((await gemwh(['deliveries', 'export', 'msg_alpha', '--as', 'fixture', '--to', '3000'])).code).toBe(2);
    expect((await gemwh(['deliveries', 'export', 'msg_alpha', '--as', 'har'])).code).toBe(2);
  });
});

describe('verify --delivery and replay delivery --set', () => {
  it('verify --delivery checks a recorded delivery as of when it arrived', async () => {
    const ok = await gemwh(['verify', '--delivery', 'msg_old', '--secret', SECRET]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('✓ valid static delivery msg_old');
    // As of now, the 3-hour-old signature is outside the window.
    const now = await gemwh(['verify', '--delivery', 'msg_old', '--secret', SECRET, '--now', String(Math.floor(Date.now() / 1000))]);
    expect(now.code).toBe(3);
    expect(now.stdout).toMatch(/too_old/);
    const rejected = await gemwh(['verify', '--delivery', 'msg_bad', '--secret', SECRET]);
    expect(rejected.code).toBe(3);
    expect(rejected.stdout).toMatch(/no_matching_signature/);
    expect((await gemwh(['verify', '--delivery', 'msg_bad', '--secret', WRONG_SECRET])).code).toBe(0);
    expect((await gemwh(['verify', '--delivery', 'msg_bad', '--body', 'x.json', '--secret', SECRET])).code).toBe(2);
  });

  it('replay delivery --set changes the body and signs it anew, so a strict app accepts it', async () => {
    const before = app.requests.length;
    const result = await gemwh(['replay', 'delivery', 'msg_old', '--to', app.url, '--set', 'data.id=changed', '--set', 'data.n=3', '--secret', SECRET]);
    expect(result.code).toBe(0);
    const got = app.requests.slice(before);
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0]!.body.toString())).toEqual({ ...JSON.parse(raw.msg_old!), data: { id: 'changed', n: 3 } });
    const noSecret = await gemwh(['replay', 'delivery', 'msg_old', '--to', app.url, '--set', 'data.id=x']);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toMatch(/--set changes the body/);
  });
});

function shell(script: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}
