import { printable } from '../core/printable.js';
import { redactSecret } from '../core/redact.js';
import type { DeliveryRow, RowForward, RowVerdict, TargetForward } from './listen-state.js';

/**
 * Plain-text pieces of the TUI, kept out of the components so they are tested as strings. Every
 * function here returns text without colour: components pick the colour from the `tone`.
 */

export type Tone = 'ok' | 'bad' | 'warn' | 'dim' | 'plain';

export interface Cell {
  text: string;
  tone: Tone;
}

// Shared with the commands that print journal records (deliveries show/list).
export { printable } from '../core/printable.js';

/** HH:MM:SS in the terminal's local time, like `tail`-style logs. */
export function formatClock(at: number): string {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** Keeps the prefix (msg_, evt_) and the tail, which is where ids differ. */
export function shortId(id: string | undefined, width = 12): string {
  if (!id) return '-';
  if (id.length <= width) return id;
  const underscore = id.indexOf('_');
  const head = underscore > 0 && underscore <= 4 ? id.slice(0, underscore + 1) : id.slice(0, 3);
  return `${head}…${id.slice(-(width - head.length - 1))}`;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.round(ms / 1000)}s`;
}

/** Whole seconds for a retry countdown: "retrying in 4s" reads better than "4.0s". */
function formatDelay(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  return `${Math.round(ms / 60_000)}m`;
}

export function verdictCell(verdict: RowVerdict): Cell {
  switch (verdict.kind) {
    case 'pending':
      return { text: '…', tone: 'dim' };
    case 'verified':
      return { text: verdict.inGrace ? '✓ old secret' : '✓', tone: verdict.inGrace ? 'warn' : 'ok' };
    case 'rejected':
      return { text: `✗ ${verdict.reason}`, tone: 'bad' };
    case 'duplicate':
      return { text: verdict.firstSeq === undefined ? 'DUP' : `DUP of #${verdict.firstSeq}`, tone: 'warn' };
    case 'resumed':
      return { text: `✓ resumed (${formatClock(verdict.receivedAt)})`, tone: 'ok' };
  }
}

/** Common node/undici error codes in the words a user expects. */
const ERROR_WORDS: Record<string, string> = {
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  ETIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  UND_ERR_SOCKET: 'socket closed',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'dns failed',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EPIPE: 'reset',
};

/** The forwarder's own descriptions (forwarder.ts, describeSendError), by how they start. */
const SENDER_PHRASES: Array<[RegExp, string]> = [
  [/^connection refused/, 'refused'],
  [/^the app closed the connection/, 'reset'],
  [/^(connect )?timed out/, 'timeout'],
  [/^host not found/, 'no such host'],
  [/^aborted: the listener is stopping/, 'stopped'],
  [/^untrusted TLS certificate/, 'untrusted certificate'],
  [/^the target speaks plain HTTP/, 'plain HTTP: use http://'],
];

function codeWords(error: string): string | undefined {
  for (const [code, words] of Object.entries(ERROR_WORDS)) {
    if (error.includes(code)) return words;
  }
  return undefined;
}

/** A failed attempt in a few words, for the list. */
export function errorWords(error: string | undefined): string {
  if (!error) return 'failed';
  const known = codeWords(error) ?? SENDER_PHRASES.find(([phrase]) => phrase.test(error))?.[1];
  if (known) return known;
  const trimmed = error.replace(/\s+/g, ' ').trim();
  return trimmed.length > 24 ? `${trimmed.slice(0, 23)}…` : trimmed;
}

/** A failed attempt for the detail view: the whole error, with plain words first when it is only a code. */
export function errorDetail(error: string | undefined): string {
  if (!error) return 'failed';
  const code = codeWords(error);
  return code ? `${code} (${error})` : error;
}

export function targetText(t: TargetForward): string {
  if (t.kind === 'ok') return `${t.status} ${formatMs(t.latencyMs)}`;
  const why = t.tokenExpired ? ' JWT expired' : t.refusedFor ? ` bad ${t.refusedFor}` : '';
  const what = t.status === undefined ? `✗ ${errorWords(t.error)}` : `✗ ${t.status}${why || ` ${formatMs(t.latencyMs)}`}`;
  return t.retryInMs === undefined ? what : `${what}, retrying in ${formatDelay(t.retryInMs)}`;
}

export function forwardCell(forward: RowForward): Cell {
  switch (forward.kind) {
    case 'none':
      return { text: '', tone: 'dim' };
    case 'filtered':
      return { text: 'not forwarded', tone: 'dim' };
    case 'pending':
      return { text: 'pending', tone: 'dim' };
    case 'reported': {
      const failed = forward.targets.some((t) => t.kind === 'failed');
      const retrying = failed && forward.targets.every((t) => t.kind === 'ok' || t.retryInMs !== undefined);
      return {
        text: forward.targets.map(targetText).join(' | '),
        tone: !failed ? 'ok' : retrying ? 'warn' : 'bad',
      };
    }
  }
}

export interface ColumnWidths {
  time: number;
  seq: number;
  eventType: number;
  webhookId: number;
  verdict: number;
  forward: number;
}

/**
 * Sized so that a 100-column terminal still shows "✗ refused, retrying in 4s"; wider terminals
 * first give the event type room for `interaction.requires_action`, then the forward column.
 * Narrower ones (80 columns is many terminals' default) take the room for the forward column
 * from the verdict (a long rejection reason is cut; the detail view has it whole), then from the
 * event type, so that "not forwarded" or "✗ refused" still shows.
 */
export function columnWidths(width: number): ColumnWidths {
  const base = { time: 8, seq: 5, eventType: 22, webhookId: 10, verdict: 23 };
  base.eventType += Math.min(5, Math.max(0, width - 100));
  let short = Math.max(0, 100 - width);
  const fromVerdict = Math.min(short, base.verdict - MIN_VERDICT_WIDTH);
  base.verdict -= fromVerdict;
  short -= fromVerdict;
  base.eventType -= Math.min(short, base.eventType - MIN_EVENT_TYPE_WIDTH);
  const used = 2 + base.time + 1 + base.seq + 1 + base.eventType + 1 + base.webhookId + 1 + base.verdict + 1;
  return { ...base, forward: Math.max(8, width - used) };
}

/** "✗ too_old", "DUP of #12": what a verdict cell must still show. */
const MIN_VERDICT_WIDTH = 10;
/** "batch.succeeded" and "video.generated" whole. */
const MIN_EVENT_TYPE_WIDTH = 15;

/** One list row as fixed-width cells; the last cell (forward) takes whatever width is left. */
export function rowCells(row: DeliveryRow): { time: string; seq: string; eventType: string; webhookId: string; verdict: Cell; forward: Cell } {
  return {
    time: formatClock(row.at),
    seq: `#${row.seq}`,
    eventType: printable(row.eventType ?? (row.method && row.method !== 'POST' ? `${row.method} ${row.path ?? ''}` : '-')),
    webhookId: printable(shortId(row.webhookId, 10)),
    verdict: verdictCell(row.verdict),
    forward: forwardCell(row.forward),
  };
}

/** Pads or cuts to exactly `width` columns (code points: ✓, ✗ and … are one column each). */
export function fit(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text + ' '.repeat(width - chars.length);
  if (width <= 0) return '';
  return chars.slice(0, width - 1).join('') + '…';
}

/** Readies are already redacted by the session; this only catches a raw secret that slipped through. */
export function safeSecretLabel(secret: string): string {
  return secret.includes('…') || secret.includes('...') ? secret : redactSecret(secret);
}

/** Splits text into lines no wider than `width`, so the detail view can count what it shows. */
export function wrapLines(text: string, width: number): string[] {
  const out: string[] = [];
  const w = Math.max(1, width);
  for (const line of text.split('\n')) {
    const chars = [...printable(line.replace(/\r$/, ''))];
    if (chars.length === 0) {
      out.push('');
      continue;
    }
    for (let i = 0; i < chars.length; i += w) out.push(chars.slice(i, i + w).join(''));
  }
  return out;
}
