import type { Writable } from 'node:stream';
import type { ListenEvent } from './events.js';
import { TOKEN_EXPIRED_WORDS, refusalWords } from './forward-notes.js';

/**
 * The two non-interactive consumers of a session's events: NDJSON for scripts and CI, and plain
 * lines for a terminal when the Ink UI is not available. Neither writes colour codes.
 */

/** With --quiet, NDJSON keeps only these: what a script must know, not every delivery. */
export const QUIET_EVENT_TYPES: ReadonlySet<ListenEvent['type']> = new Set(['ready', 'rejected', 'forward_failed', 'warning', 'stopped']);

export interface EventPrinter {
  write(event: ListenEvent): void;
  /** Writes what is buffered now. */
  flush(): void;
}

/**
 * One JSON object per line, exactly the ListenEvent. Lines are buffered and written once per
 * event-loop turn: a burst of deliveries becomes one write instead of three per delivery.
 */
export function createNdjsonPrinter(out: Writable, options: { quiet?: boolean } = {}): EventPrinter {
  let buffer = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (buffer === '') return;
    const chunk = buffer;
    buffer = '';
    out.write(chunk);
  };
  return {
    write(event) {
      if (options.quiet && !QUIET_EVENT_TYPES.has(event.type)) return;
      buffer += JSON.stringify(event) + '\n';
      // ready and stopped are what scripts wait for: never hold them back.
      if (event.type === 'ready' || event.type === 'stopped') return flush();
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** Human lines: `12:00:01  #3  batch.succeeded  msg_…  verified (wh_1)`. */
export function createLinePrinter(out: Writable, options: { quiet?: boolean } = {}): EventPrinter {
  return {
    write(event) {
      if (options.quiet && !QUIET_EVENT_TYPES.has(event.type)) return;
      const line = formatEventLine(event);
      if (line !== undefined) out.write(line + '\n');
    },
    flush() {},
  };
}

export function formatEventLine(event: ListenEvent): string | undefined {
  const time = new Date(event.at).toISOString().slice(11, 19);
  const seq = 'seq' in event ? `#${event.seq}` : '';
  const what = (type?: string, id?: string) => [type ?? '(no type)', id ?? ''].filter((s) => s !== '').join('  ');
  switch (event.type) {
    case 'ready':
      return [
        `${time}  listening on ${event.url}`,
        ...(event.publicUrl ? [`          public URL ${event.publicUrl}`] : []),
        ...(event.forwardTargets.length > 0 ? [`          forwarding to ${event.forwardTargets.join(', ')}`] : []),
        ...(event.journal ? [`          journal ${event.journal}`] : []),
      ].join('\n');
    case 'received':
      return undefined;
    case 'verified': {
      const by = event.matched ? ` (${event.matched.label}${event.matched.inGrace ? ', secret in grace period' : ''})` : ` (${event.scheme})`;
      return `${time}  ${seq}  ${what(event.eventType, event.webhookId)}  verified${by}${event.willForward ? '' : '  not forwarded'}`;
    }
    case 'rejected':
      return `${time}  ${seq}  ${event.status} ${event.reason}: ${event.explanation}${event.diagnosis.map((d) => `\n          ${d}`).join('')}`;
    case 'duplicate':
      return `${time}  ${seq}  ${what(event.eventType, event.webhookId)}  duplicate${event.firstSeq ? ` of #${event.firstSeq}` : ''}, not forwarded`;
    case 'resumed':
      return `${time}  ${seq}  ${what(event.eventType, event.webhookId)}  resumed from the journal (received ${new Date(event.receivedAt).toISOString()})`;
    case 'forwarded':
      return `${time}  ${seq}  → ${event.target}  ${event.status}  ${event.latencyMs} ms${event.attempt > 1 ? `  (attempt ${event.attempt})` : ''}${signingWords(event)}`;
    case 'forward_failed': {
      const answer = event.status !== undefined ? `${event.status}` : (event.error ?? 'failed');
      const retry = event.nextAttemptAt !== undefined ? `, retry in ${Math.max(0, Math.round((event.nextAttemptAt - event.at) / 1000))} s` : ', not retried';
      const cause = event.refusedFor ? `: ${refusalWords(event.refusedFor)}` : '';
      return `${time}  ${seq}  → ${event.target}  ${answer}  (attempt ${event.attempt}${retry})${signingWords(event)}${cause}`;
    }
    case 'warning':
      return `${time}  warning: ${event.message}`;
    case 'stopped':
      return `${time}  stopped (${event.reason})`;
  }
}

function signingWords(event: { signature?: 'as_received' | 'resigned'; tokenExpired?: boolean }): string {
  if (event.tokenExpired) return `  ${TOKEN_EXPIRED_WORDS}`;
  return event.signature === 'resigned' ? '  re-signed' : '';
}
