import type { Command } from 'commander';
import type { Deps } from '../../deps.js';
import { commandGroup, type CommandFactory } from '../command-factory.js';

// One line per subcommand, in help order.
const SUBCOMMANDS: Array<{ default: CommandFactory }> = await Promise.all([
  import('./show.js'),
]);

export default function configCommand(deps: Deps): Command {
  return commandGroup(
    deps,
    {
      name: 'config',
      summary: "gemwh's settings: the project's gemwh.json, the user's config file, .env",
      description:
        "Settings come from flags, then environment variables (a project's .env adds to them), then the project's " +
        "gemwh.json (found by walking up from the current folder), then the user's config file, then the defaults. " +
        '`gemwh help configuration` describes the files and every key.',
      examples: [
        'gemwh config show',
        'gemwh --config ci/gemwh.json config show --json',
      ],
    },
    SUBCOMMANDS,
  );
}
