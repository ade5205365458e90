import type { Command, Option } from 'commander';
import { EVENT_TYPE_NAMES } from '../core/events.js';
import { completionHint, type DynamicValues } from './hints.js';

/**
 * What the shell scripts complete, read from the commander tree so that a new command or flag
 * shows up without touching the generators. Event types come from the catalog.
 */

export interface CompletionOption {
  /** `--tamper`, `-h`: every spelling. */
  names: string[];
  description: string;
  takesValue: boolean;
  /** Fixed values (commander choices, event types). */
  values: readonly string[];
  /** Complete file names as the value. */
  files: boolean;
  /** Values the script asks gemwh for at TAB time (`gemwh __complete <kind>`). */
  dynamic?: DynamicValues;
}

export interface CompletionCommand {
  /** Words after `gemwh`: [] for the root, ['replay', 'fixture'] for a subcommand. */
  path: string[];
  description: string;
  subcommands: Array<{ name: string; description: string }>;
  /** Options of this command only; globalOptions apply everywhere. */
  options: CompletionOption[];
  /** What positional arguments complete to. */
  positional: { values: readonly string[]; files: boolean; dynamic?: DynamicValues };
}

export interface CompletionModel {
  name: string;
  globalOptions: CompletionOption[];
  /** Root first, then depth-first in help order. */
  commands: CompletionCommand[];
}

// Options whose value is an event type (or a comma list of them) wherever they appear.
const isEventTypeOption = (long: string | undefined) => long !== undefined && (long === '--type' || /^--(?:[a-z-]+-)?events$/.test(long));

// A command's `<id>` argument described as a webhook id (get, update, delete, rotate, ping, secret
// show/set/delete) is one from the secret store wherever it appears, as --events are event types.
// Delivery ids ("webhook-id (msg_…)") and relay ids are other things and do not match.
const isWebhookIdArgument = (name: string, description: string) => name === 'id' && /^webhook id\b/.test(description);

// Root options that only make sense before any subcommand.
const ROOT_ONLY = new Set(['--version', '--help']);

export function buildCompletionModel(root: Command): CompletionModel {
  const help = root.createHelp();
  const rootOptions = help.visibleOptions(root).map(toCompletionOption);
  const isGlobal = (o: CompletionOption) => !o.names.some((n) => ROOT_ONLY.has(n));
  const model: CompletionModel = { name: root.name(), globalOptions: rootOptions.filter(isGlobal), commands: [] };

  const visit = (command: Command, path: string[]) => {
    const commandHelp = command.createHelp();
    const subcommands = commandHelp.visibleCommands(command);
    const options = path.length === 0 ? rootOptions.filter((o) => !isGlobal(o)) : commandHelp.visibleOptions(command).map(toCompletionOption);
    model.commands.push({
      path,
      description: oneLine(command.summary() || command.description()),
      subcommands: subcommands.map((sub) => ({ name: sub.name(), description: oneLine(sub.summary() || sub.description()) })),
      options,
      positional: positionalOf(command),
    });
    // The implicit `help` command has no children worth walking and is not in command.commands.
    for (const sub of command.commands) visit(sub, [...path, sub.name()]);
  };
  visit(root, []);
  return model;
}

function toCompletionOption(option: Option): CompletionOption {
  const names = [option.short, option.long].filter((n): n is string => typeof n === 'string');
  const takesValue = option.required || option.optional;
  const hint = completionHint(option);
  let values: readonly string[] = option.argChoices ?? [];
  if (values.length === 0 && typeof hint === 'object') {
    values = hint.values;
  } else if (values.length === 0 && (hint === 'event-types' || isEventTypeOption(option.long))) {
    values = EVENT_TYPE_NAMES;
  }
  return {
    names,
    description: oneLine(option.description),
    takesValue,
    values: takesValue ? [...values] : [],
    files: takesValue && (hint === 'files' || hint === 'event-types-or-files'),
    ...(takesValue && hint === 'webhook-ids' ? { dynamic: hint } : {}),
  };
}

function positionalOf(command: Command): CompletionCommand['positional'] {
  const first = command.registeredArguments[0];
  if (!first) return { values: [], files: false };
  const hint = completionHint(first);
  const values =
    first.argChoices ?? (typeof hint === 'object' ? hint.values : hint === 'event-types' || hint === 'event-types-or-files' ? EVENT_TYPE_NAMES : []);
  const webhookIds = hint === 'webhook-ids' || (hint === undefined && isWebhookIdArgument(first.name(), first.description));
  return { values: [...values], files: hint === 'files' || hint === 'event-types-or-files', ...(webhookIds ? { dynamic: 'webhook-ids' as const } : {}) };
}

function oneLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}
