import { countText, createProgress } from '../core/progress.js';
import type { Deps } from '../deps.js';
import { CheckFailedError, type GemwhError, InterruptedError, NetworkError } from '../errors.js';
import { refusalCause } from '../listen/forward-notes.js';
import { createSender, type SendResult } from '../http/send.js';
import type { PreparedDelivery } from './prepare-delivery.js';
import type { Output } from '../output/output.js';

/**
 * Sends prepared deliveries with bounded concurrency, reports each answer as it arrives, and
 * judges the run: valid deliveries must be answered 2xx, tampered ones must not. Shared by
 * `replay fixture` and `replay delivery`.
 */

/** One request. Prepared when its turn comes, so the timestamp is fresh even after a long queue. */
export interface SendStep {
  /** valid, repeat, rotation, tamper:body, … */
  kind: string;
  prepare: () => Promise<PreparedDelivery>;
}

/** Steps of one job go out one after the other (a retry follows its original); jobs run in parallel. */
export type SendJob = readonly SendStep[];

export interface SendRecord {
  seq: number;
  kind: string;
  webhookId: string;
  timestamp: number;
  url: string;
  expect: PreparedDelivery['expect'];
  result: SendResult;
  /** The answer is what a correct receiver gives. */
  ok: boolean;
}

export interface SendAllOptions {
  url: URL;
  concurrency: number;
  timeoutMs: number;
  signal: AbortSignal;
  /** Accept an untrusted TLS certificate (--insecure). */
  insecure?: boolean;
  onRecord?: (record: SendRecord) => void;
}

export async function sendAll(jobs: readonly SendJob[], options: SendAllOptions): Promise<SendRecord[]> {
  const sender = await createSender({ timeoutMs: options.timeoutMs, connections: options.concurrency, insecure: options.insecure });
  const records: SendRecord[] = [];
  let nextJob = 0;
  let nextSeq = 1;
  const worker = async () => {
    while (nextJob < jobs.length && !options.signal.aborted) {
      const job = jobs[nextJob++] ?? [];
      for (const step of job) {
        if (options.signal.aborted) return;
        const seq = nextSeq++;
        const delivery = await step.prepare();
        const result = await sender.send(options.url, delivery.headers, delivery.body, { signal: options.signal });
        const record: SendRecord = {
          seq,
          kind: step.kind,
          webhookId: delivery.webhookId,
          timestamp: delivery.timestamp,
          url: options.url.href,
          expect: delivery.expect,
          result,
          ok: answeredAsExpected(delivery.expect, result),
        };
        records.push(record);
        options.onRecord?.(record);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, jobs.length) }, worker));
  } finally {
    await sender.close();
  }
  return records.sort((a, b) => a.seq - b.seq);
}

function answeredAsExpected(expect: PreparedDelivery['expect'], result: SendResult): boolean {
  if (result.status === undefined) return false;
  const is2xx = result.status >= 200 && result.status < 300;
  return expect === 'accept' ? is2xx : !is2xx;
}

/** How the deliveries were signed, so the hint for a refused valid delivery names the right suspect. */
export type RunSigning =
  | { scheme: 'static' }
  | { scheme: 'dynamic'; audience: string }
  /** `replay delivery` without --resign: the recorded headers, timestamp and all. */
  | { scheme: 'as_recorded' };

/** The error that ends the run, if any. Returned, not thrown, so the caller prints first. */
export function judgeRun(
  records: readonly SendRecord[],
  url: URL,
  signal: AbortSignal,
  signing: RunSigning = { scheme: 'static' },
): GemwhError | undefined {
  if (signal.aborted) {
    return new InterruptedError(`stopped after ${plural(records.length, 'send', 'sends')}`);
  }
  const answered = records.filter((r) => r.result.status !== undefined);
  if (records.length > 0 && answered.length === 0) {
    const first = records[0]?.result.error;
    return new NetworkError(`cannot reach ${url.href}: ${first?.message ?? 'no answer'}`, {
      hint: first?.hint ?? 'Is the receiver running? Check the host and port given to --to.',
    });
  }
  const problems: string[] = [];
  const hints: string[] = [];
  const validFailed = records.filter((r) => r.expect === 'accept' && !r.ok);
  const tamperedAccepted = records.filter((r) => r.expect === 'reject' && !r.ok && r.result.status !== undefined);
  const tamperedUnanswered = records.filter((r) => r.expect === 'reject' && r.result.status === undefined);
  if (validFailed.length > 0) {
    const valid = records.filter((r) => r.expect === 'accept').length;
    problems.push(`${validFailed.length} of ${plural(valid, 'valid delivery', 'valid deliveries')} ${validFailed.length === 1 ? 'was' : 'were'} not answered 2xx`);
    if (validFailed.some((r) => r.result.location !== undefined)) {
      hints.push('A redirect (3xx) is not an acknowledgement: senders do not follow it. Point --to at the final URL.');
    }
    if (validFailed.some((r) => r.kind === 'repeat')) {
      hints.push('A repeated webhook-id is a retry: acknowledge it with 2xx (and skip the work), or the sender keeps retrying.');
    }
    const causes = new Set(validFailed.map((r) => refusalCause(r.result.status, r.result.responseStart)));
    hints.push(
      signing.scheme === 'as_recorded'
        ? `They were sent as recorded, with the original webhook-timestamp and signature${causes.has('timestamp') ? ' (the receiver refused the timestamp)' : causes.has('signature') ? ' (the receiver refused the signature)' : ''}: ` +
            'an app that checks the timestamp refuses a delivery older than its tolerance (5 minutes in Standard Webhooks libraries). ' +
            'Add --resign (with --webhook ID or --secret) to sign them afresh with the current time.'
        : signing.scheme === 'dynamic'
        ? // A JWT delivery has no shared secret: what can disagree is the key set and the audience.
          `Check that the receiver trusts gemwh's development JWKS (\`gemwh replay jwks\`) and expects aud "${signing.audience}" (set another with --audience), and that it hashes the raw body bytes for body_sha256.`
        : 'Check the secret the receiver verifies with, and that it verifies the raw body bytes.',
    );
  }
  if (tamperedAccepted.length > 0) {
    const kinds = [...new Set(tamperedAccepted.map((r) => r.kind))].join(', ');
    problems.push(`${plural(tamperedAccepted.length, 'tampered delivery was', 'tampered deliveries were')} answered 2xx (${kinds})`);
    hints.push('The receiver accepts deliveries it should refuse: verify the signature and timestamp before answering 2xx.');
  }
  if (tamperedUnanswered.length > 0) {
    problems.push(`${plural(tamperedUnanswered.length, 'tampered delivery', 'tampered deliveries')} got no answer at all`);
  }
  if (problems.length === 0) return undefined;
  return new CheckFailedError(problems.join('; '), { hint: hints.join('\n') || 'See the result of each send above.' });
}

export interface SendPrinter {
  start(): void;
  record(record: SendRecord): void;
  /** Erases the progress line (summary does too); for a run that ends without a summary. */
  close(): void;
  summary(records: readonly SendRecord[]): void;
}

/**
 * Per send, as answers arrive: aligned columns on a terminal, TSV in a pipe, and with --json one
 * JSON object per line (NDJSON), which streams and suits `jq`. The summary goes to stderr.
 */
export function createSendPrinter(
  { deps, out: output }: { deps: Pick<Deps, 'io'>; out: Pick<Output, 'tty'> },
  options: { json: boolean; kinds: readonly string[]; total: number },
): SendPrinter {
  const out = deps.io.stdout;
  const tty = !options.json && output.tty;
  const seqWidth = Math.max(1, String(options.total).length);
  const kindWidth = Math.max(4, ...options.kinds.map((k) => k.length));
  const columns = out.columns ?? 100;
  // One send needs no count; many (--count N, a journal's worth) show how far they got.
  const progress = createProgress(deps.io.stderr, { silent: options.json || options.total <= 1 });
  let answered = 0;

  const ttyLine = (seq: string, id: string, kind: string, status: string, latency: string, result: string, response: string) => {
    const left = `${seq.padStart(seqWidth)}  ${id.padEnd(28)}  ${kind.padEnd(kindWidth)}  ${status.padEnd(7)}  ${latency.padStart(9)}  ${result.padEnd(6)}  `;
    const room = Math.max(10, columns - left.length);
    const cut = [...response].length > room ? [...response].slice(0, room - 1).join('') + '…' : response;
    return `${left}${cut}`.trimEnd() + '\n';
  };

  return {
    start() {
      if (options.json) return;
      if (tty) out.write(ttyLine('#', 'WEBHOOK-ID', 'KIND', 'STATUS', 'LATENCY', 'RESULT', 'RESPONSE'));
      else out.write(['seq', 'webhook_id', 'kind', 'status', 'latency_ms', 'result', 'response'].join('\t') + '\n');
    },
    record(r) {
      answered++;
      progress.hide();
      try {
        writeRecord(r);
      } finally {
        progress.update(countText(answered, options.total, `sends answered by ${r.url}`));
      }
    },
    close() {
      progress.done();
    },
    summary(records) {
      progress.done();
      const failed = records.filter((r) => !r.ok).length;
      const url = records[0]?.url ?? '';
      deps.io.stderr.write(
        `gemwh: ${plural(records.length, 'send', 'sends')} to ${url}: ${records.length - failed} answered as expected` +
          (failed > 0 ? `, ${failed} not` : '') +
          '\n',
      );
    },
  };

  function writeRecord(r: SendRecord): void {
    if (options.json) {
      out.write(
        JSON.stringify({
          seq: r.seq,
          webhookId: r.webhookId,
          timestamp: r.timestamp,
          url: r.url,
          kind: r.kind,
          expected: r.expect === 'accept' ? '2xx' : 'not 2xx',
          status: r.result.status ?? null,
          ok: r.ok,
          latencyMs: r.result.latencyMs,
          responseStart: r.result.responseStart,
          ...(r.result.location !== undefined ? { location: r.result.location } : {}),
          ...(r.result.error ? { error: r.result.error } : {}),
        }) + '\n',
      );
      return;
    }
    const status = r.result.status !== undefined ? String(r.result.status) : (r.result.error?.kind ?? 'error');
    const response = oneLine(
      r.result.error && r.result.status === undefined
        ? r.result.error.message
        : r.result.location !== undefined
          ? `→ ${r.result.location} ${r.result.responseStart}`
          : r.result.responseStart,
    );
    const result = r.ok ? 'ok' : 'FAIL';
    if (tty) {
      out.write(ttyLine(String(r.seq), r.webhookId, r.kind, status, `${r.result.latencyMs.toFixed(1)} ms`, result, response));
    } else {
      out.write([r.seq, r.webhookId, r.kind, status, r.result.latencyMs.toFixed(1), result, response.slice(0, 200)].join('\t') + '\n');
    }
  }
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
