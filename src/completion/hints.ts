import type { Argument, Option } from 'commander';

/**
 * What the shell should offer for an argument or option value, beyond what commander knows
 * (choices). Set by command files, read by the completion generator. Options named --events and
 * --type get event types without being marked. `{ values }` suggests fixed values without making
 * them the only ones commander accepts (rotate --grace offers 24h and 0, and also takes immediate).
 * 'webhook-ids' asks gemwh at TAB time for the ids in the secret store (completion/dynamic.ts).
 */
export type CompletionHint = 'event-types' | 'event-types-or-files' | 'files' | DynamicValues | { values: readonly string[] };

/** Values only gemwh knows at TAB time; `gemwh __complete <kind>` prints them. */
export type DynamicValues = 'webhook-ids';

const HINT = Symbol.for('gemwh.completion-hint');

type Hinted = { [HINT]?: CompletionHint };

export function completeWith<T extends Argument | Option>(target: T, hint: CompletionHint): T {
  (target as T & Hinted)[HINT] = hint;
  return target;
}

export function completionHint(target: Argument | Option): CompletionHint | undefined {
  return (target as (Argument | Option) & Hinted)[HINT];
}
