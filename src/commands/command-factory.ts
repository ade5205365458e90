import { Command } from 'commander';
import type { Deps } from '../deps.js';

/**
 * Each command module exports a factory; adding a command means adding it to program.ts's list.
 * Factories only declare flags and call run*(): the behaviour lives below commands/. Kept out of
 * program.ts so that a command group (replay) can name it without importing the program.
 */
export type CommandFactory = (deps: Deps) => Command;

export interface CommandGroupSpec {
  name: string;
  summary: string;
  description: string;
  /** Command lines shown under "Examples:", without the `$ `. */
  examples: readonly string[];
}

/**
 * A command that only holds subcommands (secret, auth, replay…): its help and its subcommands, in
 * help order. The subcommand modules are loaded by the group's index.ts (each stays light: its
 * action loads the rest).
 */
export function commandGroup(deps: Deps, spec: CommandGroupSpec, subcommands: ReadonlyArray<{ default: CommandFactory }>): Command {
  const group = new Command(spec.name)
    .summary(spec.summary)
    .description(spec.description)
    .addHelpText('after', `\nExamples:\n${spec.examples.map((line) => `  $ ${line}\n`).join('')}`);
  for (const module of subcommands) group.addCommand(module.default(deps));
  return group;
}
