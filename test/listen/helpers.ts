import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { sign } from '../../src/core/standard-webhooks.js';
import type { SecretCandidate } from '../../src/core/verdict.js';
import type { Scheduler } from '../../src/deps.js';
import type { ListenEvent } from '../../src/listen/events.js';
import { Journal } from '../../src/listen/journal.js';
import { JOURNAL_FORMAT_VERSION } from '../../src/listen/journal-records.js';
import { DEFAULT_LIMITS } from '../../src/listen/receiver.js';
import { startListenSession } from '../../src/listen/session.js';
import { LISTEN_DEFAULTS, type ListenSessionOptions } from '../../src/listen/session-options.js';
import type { ListenSession } from '../../src/listen/session-types.js';
import { createListenVerifier } from '../../src/listen/verification.js';

/** The Standard Webhooks test vector secret (spec §5.1). */
export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
/** A second secret, e.g. the one in its grace period after a rotation. */
export const OLD_SECRET = 'whsec_' + Buffer.alloc(32, 7).toString('base64');

export function body(type = 'batch.succeeded', id = 'batch_1'): string {
  return JSON.stringify({ type, version: 'v1', timestamp: '2026-05-04T12:00:00Z', data: { id } });
}

let counter = 0;
export function newId(): string {
  counter += 1;
  return `msg_${process.pid}_${Date.now().toString(36)}_${counter}`;
}

export function signedHeaders(
  raw: string | Buffer,
  options: { id?: string; timestamp?: number; secret?: string } = {},
): Record<string, string> {
  const id = options.id ?? newId();
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': sign(id, timestamp, raw, options.secret ?? SECRET),
  };
}

export interface PostResult {
  status: number;
  text: string;
  json: Record<string, unknown>;
}

export async function post(url: string, raw: string | Buffer, headers: Record<string, string> | string[] = {}, method = 'POST'): Promise<PostResult> {
  const response = await request(url, { method: method as 'POST', headers, body: method === 'GET' ? undefined : raw });
  const text = await response.body.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: response.statusCode, text, json };
}

export interface TestSession {
  session: ListenSession;
  events: ListenEvent[];
  dir: string;
  journalFile: string;
  /** Resolves with the first event matching `test` (already seen or still to come). */
  waitFor<T extends ListenEvent['type']>(type: T, test?: (event: Extract<ListenEvent, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<ListenEvent, { type: T }>>;
  stop(): Promise<void>;
}

export interface TestSessionOptions extends Partial<ListenSessionOptions> {
  secrets?: SecretCandidate[];
  /** Reuse a folder (and its journal) from an earlier session. */
  dir?: string;
  noJournal?: boolean;
  /** The session's (and its verifier's) clock, epoch ms; default Date.now. */
  now?: () => number;
  /** Where forward retries wait (test/helpers/manual-time.ts); default real timers. */
  scheduler?: Scheduler;
}

/** A session on 127.0.0.1:0 with a journal in a temp folder and fast retries. Always stop() it. */
export async function startTestSession(options: TestSessionOptions = {}): Promise<TestSession> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'gemwh-listen-'));
  const journalFile = join(dir, 'journal.ndjson');
  const { secrets, dir: _dir, noJournal, now = () => Date.now(), scheduler, ...rest } = options;
  const verifier = createListenVerifier({ secrets: secrets ?? [{ secret: SECRET, label: 'wh_test' }], toleranceSec: 300, now });
  const removeDir = () => {
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  };
  const session = await startListenSession(
    {
      ...DEFAULT_LIMITS,
      host: '127.0.0.1',
      port: 0,
      verify: verifier,
      signingSecrets: verifier.signingSecrets,
      verifying: { webhookIds: ['wh_test'], secrets: [] },
      forward: [],
      routes: [],
      events: [],
      extraHeaders: [],
      forwardTimeoutMs: 5_000,
      forwardConcurrency: 8,
      retry: { initialMs: 50, maxMs: 200 },
      journal: noJournal ? undefined : { file: journalFile, maxBytes: 16 * 1024 * 1024, keep: 2, fsync: false },
      dedupCapacity: 1000,
      resume: LISTEN_DEFAULTS.resume,
      stopGraceMs: 1000,
      ...rest,
    },
    { clock: { now }, scheduler, random: { bytes: (n) => Buffer.from(crypto.getRandomValues(new Uint8Array(n))) } },
  ).catch((error: unknown) => {
    // A session that fails to start (a test of exactly that) must not leave its folder behind.
    removeDir();
    throw error;
  });
  const events: ListenEvent[] = [...session.history()];
  const waiters = new Set<() => void>();
  session.on((event) => {
    events.push(event);
    for (const wake of [...waiters]) wake();
  });
  const waitFor: TestSession['waitFor'] = (type, test = () => true, timeoutMs = 5000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = events.find((e) => e.type === type && test(e as never));
        if (found) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found as never);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${type} event within ${timeoutMs} ms; saw: ${events.map((e) => e.type).join(', ')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return {
    session,
    events,
    dir,
    journalFile,
    waitFor,
    async stop() {
      await session.stop();
      removeDir();
    },
  };
}

/**
 * Journals `msg_old`, a verified batch.succeeded received (and signed) 3 hours ago by an earlier
 * listen on /hooks/gemini under the key `old.1`: too old for an app that checks timestamps.
 */
export async function journalOldDelivery(file: string): Promise<{ raw: string; headers: Record<string, string> }> {
  const raw = body('batch.succeeded', 'old');
  const at = Date.now() - 3 * 3600_000;
  const headers = signedHeaders(raw, { id: 'msg_old', timestamp: Math.floor(at / 1000) });
  const journal = await Journal.open({ file, maxBytes: 1 << 24, keep: 2, fsync: false });
  await journal.append({
    kind: 'delivery',
    v: JOURNAL_FORMAT_VERSION,
    key: 'old.1',
    session: 'old',
    seq: 1,
    at,
    method: 'POST',
    path: '/hooks/gemini',
    headers: Object.entries(headers),
    encoding: 'utf8',
    body: raw,
    bodyBytes: raw.length,
    status: 200,
    outcome: 'verified',
    webhookId: 'msg_old',
    eventType: 'batch.succeeded',
    targets: [],
  });
  await journal.close();
  return { raw, headers };
}
