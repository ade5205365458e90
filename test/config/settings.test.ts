import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { TOP_LEVEL_CHECKS } from '../../src/config/checks.js';
import { LISTEN_CHECKS } from '../../src/config/listen-checks.js';
import { SETTINGS, settingKey } from '../../src/config/settings.js';
import { buildProgram } from '../../src/program.js';
import { makeTestDeps } from '../helpers/deps.js';

// Each config key is an option's attribute name: a renamed or removed flag must not leave a key
// that silently does nothing, and a key's shape must be the flag's (a list for a repeatable flag).

async function program(): Promise<Command> {
  const t = makeTestDeps();
  try {
    return await buildProgram(t.deps);
  } finally {
    t.cleanup();
  }
}

function repeatable(command: Command, name: string): boolean {
  const option = command.options.find((candidate) => candidate.attributeName() === name && !candidate.negate);
  try {
    return Array.isArray(option?.parseArg?.('x', undefined as unknown as string));
  } catch {
    return false;
  }
}

function walk(command: Command): Command[] {
  return [command, ...command.commands.flatMap(walk)];
}

describe('config settings and the commands', () => {
  it('every key names an option of the command it configures, in the same shape', async () => {
    const root = await program();
    const problems: string[] = [];
    for (const spec of SETTINGS) {
      const key = settingKey(spec);
      if (spec.section === '' && !spec.everyCommand) {
        if (!root.options.some((option) => option.attributeName() === spec.name)) problems.push(`${key}: no global option`);
        continue;
      }
      const commands = spec.section === '' ? walk(root).filter((command) => command.parent && command.options.some((option) => option.attributeName() === spec.name)) : [root.commands.find((command) => command.name() === spec.section)!];
      if (commands.length === 0) problems.push(`${key}: no command has it`);
      for (const command of commands) {
        const option = command.options.find((candidate) => candidate.attributeName() === spec.name);
        if (!option) {
          problems.push(`${key}: gemwh ${command.name()} has no such option`);
          continue;
        }
        const takesValue = option.required || option.optional;
        const switchLike = spec.kind === 'switch';
        if (switchLike === Boolean(takesValue)) problems.push(`${key}: ${option.flags} ${takesValue ? 'takes a value' : 'is a switch'}`);
        if (spec.kind === 'list' || spec.kind === 'routes') {
          if (!repeatable(command, spec.name)) problems.push(`${key}: a list, but ${option.flags} is not repeatable`);
        } else if (spec.section !== '' && repeatable(command, spec.name)) {
          problems.push(`${key}: one value, but ${option.flags} is repeatable`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every check a setting names exists where its section loads checks from', () => {
    const missing = SETTINGS.filter((spec) => spec.check && !(spec.section === '' ? TOP_LEVEL_CHECKS : { ...TOP_LEVEL_CHECKS, ...LISTEN_CHECKS })[spec.check]).map(settingKey);
    expect(missing).toEqual([]);
  });
});
