import stringWidth from 'string-width';
import { printable } from '../core/printable.js';
import { redactSecret } from '../core/redact.js';
import type { DeliveryRow, ListenUiState, RowForward, RowVerdict, TargetForward } from './listen-state.js';

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

/**
 * One key of the status bar: the key, what it does, and optionally how early it gives way when
 * the bar is wider than the terminal (the highest first; a key without one always stays).
 */
export type KeyHint = [key: string, action: string, dropRank?: number];

/**
 * The keys that fit in `width` cells, two spaces apart: ranked keys are left out, highest rank
 * first (the rightmost of equal rank first), until the rest fits. `gemwh help live-view` lists
 * them all, so `q quit` is never the one cut off.
 */
export function fitKeys(keys: readonly KeyHint[], width: number): KeyHint[] {
  const shown = [...keys];
  const widthOf = (hints: readonly KeyHint[]) => hints.reduce((sum, [key, action], i) => sum + (i > 0 ? 2 : 0) + stringWidth(key) + 1 + stringWidth(action), 0);
  while (widthOf(shown) > width) {
    let drop = -1;
    shown.forEach(([, , rank], i) => {
      if (rank !== undefined && (drop < 0 || rank >= (shown[drop]?.[2] ?? 0))) drop = i;
    });
    if (drop < 0) break;
    shown.splice(drop, 1);
  }
  return shown;
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

/** The one sender's descriptions (http/send-errors.ts, as listen's forwarder words them), by how they start. */
const SENDER_PHRASES: Array<[RegExp, string]> = [
  [/^connection refused/, 'refused'],
  [/^connection closed without an answer/, 'reset'],
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
  /** 0: no column (no forward target, so every row would say "not forwarded"). */
  forward: number;
}

/** How wide each variable column's widest content is, over the rows on screen. */
export interface ColumnNeeds {
  eventType: number;
  verdict: number;
  forward: number;
}

/** "batch.succeeded" and "video.generated" whole. */
const MIN_EVENT_TYPE_WIDTH = 15;
/** "✗ too_old", "DUP of #12": what a verdict cell must still show. */
const MIN_VERDICT_WIDTH = 10;
/** "✗ refused", "200 12ms". */
const MIN_FORWARD_WIDTH = 10;
/** Wide enough for `interaction.requires_action` and `✗ no_matching_signature`, the longest common cells. */
const DEFAULT_NEEDS: ColumnNeeds = { eventType: 27, verdict: 23, forward: 25 };

/**
 * Each variable column gets what its widest cell on screen needs (so a column of ✓ is not padded
 * to the width of a rejection reason). When the row is too wide, the short WEBHOOK-ID goes first
 * (the detail view has the whole id), then the widest column gives a cell at a time until the row
 * fits or every column is at its minimum. Without forward targets there is no FORWARD column: its
 * room goes to the event type and the verdict. What is left over goes to the last column.
 */
export function columnWidths(width: number, options: { forward?: boolean; needs?: Partial<ColumnNeeds>; seqDigits?: number } = {}): ColumnWidths {
  const showForward = options.forward ?? true;
  const needs = { ...DEFAULT_NEEDS, ...options.needs };
  const seq = Math.max(2, (options.seqDigits ?? 4) + 1);
  const cols = {
    eventType: Math.max('EVENT'.length, needs.eventType),
    verdict: Math.max('VERDICT'.length, needs.verdict),
    forward: showForward ? Math.max('FORWARD'.length, needs.forward) : 0,
  };
  const mins = {
    eventType: Math.min(MIN_EVENT_TYPE_WIDTH, cols.eventType),
    verdict: Math.min(MIN_VERDICT_WIDTH, cols.verdict),
    forward: Math.min(MIN_FORWARD_WIDTH, cols.forward),
  };
  let webhookId = 10;
  const total = () => 2 + 8 + 1 + seq + 1 + (webhookId > 0 ? webhookId + 1 : 0) + cols.eventType + 1 + cols.verdict + (showForward ? 1 + cols.forward : 0);
  if (total() > width) webhookId = 0;
  const names = ['eventType', 'verdict', 'forward'] as const;
  let over = total() - width;
  while (over > 0) {
    const widest = names.filter((n) => cols[n] > mins[n]).sort((a, b) => cols[b] - mins[b] - (cols[a] - mins[a]))[0];
    if (!widest) break;
    cols[widest]--;
    over--;
  }
  const spare = Math.max(0, -over);
  if (showForward) cols.forward += spare;
  else cols.verdict += spare;
  return { time: 8, seq, eventType: cols.eventType, webhookId, verdict: cols.verdict, forward: cols.forward };
}

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

/**
 * Pads or cuts to exactly `width` terminal cells, measured with string-width: a CJK character
 * takes two cells, a combining mark none, so columns stay aligned whatever the sender wrote.
 */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  const total = stringWidth(text);
  if (total <= width) return text + ' '.repeat(width - total);
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const cells = stringWidth(segment);
    if (used + cells > width - 1) break;
    out += segment;
    used += cells;
  }
  return out + '…' + ' '.repeat(width - 1 - used);
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Terminal cells `text` takes. */
export function cellWidth(text: string): number {
  return stringWidth(text);
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
    const shown = printable(line.replace(/\r$/, ''));
    if (shown === '') {
      out.push('');
      continue;
    }
    let piece = '';
    let used = 0;
    for (const { segment } of graphemes.segment(shown)) {
      const cells = stringWidth(segment);
      if (used + cells > w && piece !== '') {
        out.push(piece);
        piece = '';
        used = 0;
      }
      piece += segment;
      used += cells;
    }
    out.push(piece);
  }
  return out;
}

/**
 * What is left on the terminal after the live view: the totals and where the journal is, in
 * one line, instead of the view's last frame ("stopping…" and a key bar that no longer works).
 */
export function summaryLine(state: ListenUiState): string {
  const c = state.counters;
  const parts = [`received ${c.received}`, `verified ${c.verified}`, `rejected ${c.rejected}`];
  if (c.duplicates > 0) parts.push(`duplicates ${c.duplicates}`);
  parts.push(`forwarded ${c.forwarded}`);
  if (c.failed > 0) parts.push(`failed ${c.failed}`);
  if (c.resumed > 0) parts.push(`resumed ${c.resumed}`);
  const journal = state.info?.journal ? `journal ${state.info.journal}` : 'no journal';
  const why = state.stopped && !/^quit/.test(state.stopped.reason) ? ` (${state.stopped.reason})` : '';
  return printable(`gemwh listen stopped${why}: ${parts.join(', ')}; ${journal}`);
}
