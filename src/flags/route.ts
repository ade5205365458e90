import { parseEventList } from '../core/events.js';
import type { Target } from '../core/target.js';
import { UsageError } from '../errors.js';
import { parseTarget } from './target.js';

/** `--route 'batch.*=http://localhost:3000/batch'`: an event type (or glob) and the target its deliveries go to. */
export function parseRoute(text: string, options: { allowUnknown?: boolean } = {}): { pattern: string; target: Target } {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) {
    throw new UsageError(`--route "${text}" is not PATTERN=TARGET`, {
      hint: "Write the event type (or a glob) and the target, e.g. --route 'batch.*=http://localhost:3000/batch'.",
    });
  }
  const [pattern] = parseEventList(text.slice(0, eq), { flag: '--route', allowPatterns: true, allowUnknown: options.allowUnknown === true });
  return { pattern: pattern!, target: parseTarget(text.slice(eq + 1)) };
}
