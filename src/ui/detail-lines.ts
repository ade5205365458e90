import type { DeliveryDetails } from '../listen/session-types.js';
import { TOKEN_EXPIRED_WORDS, refusalWords } from '../listen/forward-notes.js';
import { errorDetail, formatClock, formatMs, wrapLines, type Tone } from './format.js';

/**
 * The detail view as a list of terminal lines, already wrapped to the width (and made printable
 * by wrapLines), so the component can scroll by line count and tests can read it as text.
 */

export interface DetailLine {
  text: string;
  tone: Tone;
  bold?: boolean;
}

/** Pretty-printing a multi-megabyte body would stall the terminal; the journal has all of it. */
export const MAX_BODY_CHARS = 64 * 1024;

export function detailLines(details: DeliveryDetails, width: number): DetailLine[] {
  const lines: DetailLine[] = [];
  const add = (text: string, tone: Tone = 'plain', indent = 0) => {
    const pad = ' '.repeat(indent);
    for (const piece of wrapLines(text, Math.max(8, width - indent))) lines.push({ text: pad + piece, tone });
  };
  const heading = (text: string) => {
    lines.push({ text: '', tone: 'plain' });
    lines.push({ text, tone: 'plain', bold: true });
  };

  add(`#${details.seq}  ${details.method} ${details.path}  ${formatClock(details.receivedAt)}  answered ${details.status}`);
  const facts = [
    details.eventType ? `event ${details.eventType}` : undefined,
    details.webhookId ? `webhook-id ${details.webhookId}` : undefined,
    `${details.body.bytes} bytes`,
  ].filter((fact): fact is string => fact !== undefined);
  add(facts.join('  '), 'dim');

  heading('Verdict');
  verdictLines(details, add);

  heading('Forwards');
  if (details.forwards.length === 0) {
    add(forwardsAbsentText(details), 'dim', 2);
  }
  for (const attempt of details.forwards) {
    const result =
      attempt.status !== undefined ? `${attempt.status}` : `✗ ${errorDetail(attempt.error)}`;
    add(
      `${attempt.ok ? '✓' : '✗'} attempt ${attempt.attempt} → ${attempt.target}  ${result}  ${formatMs(attempt.latencyMs)}  ${formatClock(attempt.at)}`,
      attempt.ok ? 'ok' : 'bad',
      2,
    );
    if (attempt.tokenExpired) add(TOKEN_EXPIRED_WORDS, 'warn', 4);
    else if (attempt.signature === 'resigned') add(`re-signed: webhook-timestamp ${attempt.timestamp ?? ''}, a signature per current secret`.trimEnd(), 'dim', 4);
    if (attempt.refusedFor) add(refusalWords(attempt.refusedFor), 'bad', 4);
    if (attempt.responseStart) add(attempt.responseStart, 'dim', 4);
  }

  heading('Headers');
  for (const [name, value] of details.headers) add(`${name}: ${value}`, 'plain', 2);

  heading(bodyHeading(details));
  add(bodyText(details), 'plain', 2);
  return lines;
}

function verdictLines(details: DeliveryDetails, add: (text: string, tone?: Tone, indent?: number) => void): void {
  const outcome = details.outcome;
  switch (outcome.kind) {
    case 'verified': {
      const verdict = outcome.verdict;
      add(`✓ verified (${verdict.scheme})`, 'ok', 2);
      add(verdict.scheme === 'static' ? verdict.explanation.replace(`secret ${verdict.matched.label}`, secretWords(verdict.matched.label)) : verdict.explanation, 'plain', 2);
      if (verdict.scheme === 'static' && verdict.matched.inGrace) {
        add('The matching secret is in its grace period after a rotation: move to the new secret.', 'warn', 2);
      }
      if (!outcome.willForward) add('Not forwarded: no --forward or --route target takes this event type (see --events).', 'dim', 2);
      return;
    }
    case 'rejected':
      add(`✗ rejected: ${outcome.reason} (answered ${details.status})`, 'bad', 2);
      add(outcome.explanation, 'plain', 2);
      for (const finding of outcome.diagnosis) add(`- ${finding}`, 'warn', 4);
      return;
    case 'duplicate':
      add(
        outcome.firstSeq === undefined
          ? 'DUP: this webhook-id was already received in this session; not forwarded again.'
          : `DUP: same webhook-id as #${outcome.firstSeq}; not forwarded again.`,
        'warn',
        2,
      );
      return;
  }
}

/**
 * A stored secret is labelled with its webhook's id (and " (previous)" during a rotation's grace
 * period); "secret k0h9…" reads as if the id were the secret's, so say whose secret it is.
 */
export function secretWords(label: string): string {
  if (label.startsWith('--secret') || label.startsWith('$')) return `the secret from ${label}`;
  const previous = ' (previous)';
  if (label.endsWith(previous)) return `the previous secret of webhook ${label.slice(0, -previous.length)}`;
  return `the current secret of webhook ${label}`;
}

/** Every kept warning whole (the header shows only the newest, cut to the width). */
export function warningLines(warnings: ReadonlyArray<{ at: number; message: string }>, width: number): DetailLine[] {
  const lines: DetailLine[] = [{ text: `Warnings (the last ${warnings.length})`, tone: 'plain', bold: true }];
  for (const warning of warnings) {
    const [first = '', ...rest] = wrapLines(`${formatClock(warning.at)}  ${warning.message}`, Math.max(8, width - 2));
    lines.push({ text: `! ${first}`, tone: 'warn' });
    for (const piece of rest) lines.push({ text: `  ${piece}`, tone: 'warn' });
  }
  return lines;
}

function forwardsAbsentText(details: DeliveryDetails): string {
  if (details.outcome.kind !== 'verified') return 'none (only verified, first-seen deliveries are forwarded)';
  if (details.targets.length === 0) return 'none (no --forward target)';
  if (!details.outcome.willForward) return 'none (no --forward or --route target takes this event type)';
  return 'pending';
}

function bodyHeading(details: DeliveryDetails): string {
  const { body } = details;
  const parts = [`Body (${body.bytes} bytes`];
  if (body.encoding === 'base64') parts.push(', not UTF-8: base64');
  if (body.truncated) parts.push(', cut: the journal has all of it');
  return parts.join('') + ')';
}

function bodyText(details: DeliveryDetails): string {
  const { body } = details;
  if (body.encoding === 'base64') return cap(body.data);
  if (body.data.length === 0) return '(empty)';
  if (!body.truncated && body.data.length <= MAX_BODY_CHARS) {
    try {
      return JSON.stringify(JSON.parse(body.data), null, 2);
    } catch {
      // Not JSON (or a delivery that is exactly what the verifier complained about): show it raw.
    }
  }
  return cap(body.data);
}

function cap(text: string): string {
  return text.length <= MAX_BODY_CHARS ? text : `${text.slice(0, MAX_BODY_CHARS)}\n… (${text.length - MAX_BODY_CHARS} more characters)`;
}
