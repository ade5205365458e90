import type { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { lookupSetting, placeText, type FileValue, type LoadedConfig } from './load.js';
import { SECTIONS, SETTINGS, settingKey, type SettingSpec } from './settings.js';

/**
 * Fills the options of the command about to run (and of its parents, up to the global options)
 * from the config files, for every option the command line left at its default and whose
 * environment variable is unset: flags > environment > project file > user file > defaults.
 * Runs once in a preAction hook (program.ts), so no command has code of its own for it. A value
 * set here has commander's value source 'config'; `appliedFrom` says which file and line.
 */
export function applyConfig(action: Command, config: LoadedConfig): Map<string, FileValue> {
  const applied = new Map<string, FileValue>();
  for (let command: Command | null = action; command; command = command.parent) {
    const isRoot = command.parent === null;
    // A section is a top-level command's (`listen`); its subcommands have none.
    const section = !isRoot && command.parent?.parent === null && (SECTIONS as readonly string[]).includes(command.name()) ? command.name() : '';
    const seen = new Set<string>();
    for (const option of command.options) {
      const name = option.attributeName();
      if (seen.has(name)) continue; // --journal and --no-journal share one value
      seen.add(name);
      const spec = specFor(section, name, isRoot);
      if (!spec) continue;
      const source = command.getOptionValueSource(name);
      if (source !== undefined && source !== 'default') continue;
      if (spec.env !== undefined && config.env[spec.env]?.trim()) continue;
      if (spec.group !== undefined && groupGivenOnCommandLine(command, spec.group)) continue;
      const needs = spec.onlyWith?.[commandPath(command).trim()];
      if (needs && !needs.some((other) => given(command.getOptionValue(other)))) continue;
      const found = lookupSetting(config, section, name);
      if (!found) continue;
      command.setOptionValueWithSource(name, valueFor(option, found), 'config');
      applied.set(`${commandPath(command)}${name}`, found);
    }
  }
  return applied;
}

/** The setting a command's option takes its value from: its section's, else a top-level one that applies to it. */
function specFor(section: string, name: string, isRoot: boolean): SettingSpec | undefined {
  if (section !== '') {
    const own = SETTINGS.find((spec) => spec.section === section && spec.name === name);
    if (own) return own;
  }
  const top = SETTINGS.find((spec) => spec.section === '' && spec.name === name);
  if (!top) return undefined;
  // The global options are the root's; secretEnv is every command's that takes --secret-env.
  return (top.everyCommand === true) !== isRoot ? top : undefined;
}

const GROUPS: Readonly<Record<NonNullable<SettingSpec['group']>, readonly string[]>> = {
  // --dynamic (replay fixture, conformance) signs with gemwh's JWT key instead of a secret.
  secrets: ['secret', 'secretEnv', 'webhook', 'dynamic'],
  exposure: ['publicUrl', 'tunnel', 'tunnelCommand'],
};

function groupGivenOnCommandLine(command: Command, group: NonNullable<SettingSpec['group']>): boolean {
  return GROUPS[group].some((name) => command.getOptionValueSource(name) === 'cli');
}

/**
 * The value in the shape the option holds when typed: a list for a repeatable flag (its parser
 * collects: probing it with one value returns an array), one string otherwise.
 */
function valueFor(option: Option, found: FileValue): string | string[] | boolean {
  if (typeof found.value === 'boolean') return found.value;
  let repeatable = false;
  try {
    repeatable = Array.isArray(option.parseArg?.('x', undefined as unknown as string));
  } catch {
    repeatable = false;
  }
  if (repeatable) return Array.isArray(found.value) ? found.value : [found.value];
  if (!Array.isArray(found.value)) return found.value;
  if (found.value.length === 1) return found.value[0]!;
  throw new UsageError(`${placeText(found.file, found.place)}: "${settingKey(found.spec)}" gives ${found.value.length} values, but ${option.long ?? option.flags} takes one`);
}

function given(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== false;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at?.parent; at = at.parent) names.unshift(at.name());
  return names.length > 0 ? `${names.join(' ')} ` : '';
}
