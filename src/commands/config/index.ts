import { Command } from 'commander';
import type { Deps } from '../../deps.js';
import type { CommandFactory } from '../command-factory.js';

// One line per subcommand, in help order; each file stays light (its action loads the rest).
const SUBCOMMANDS: Array<{ default: CommandFactory }> = await Promise.all([import('./show.js')]);

export default function configCommand(deps: Deps): Command {
  const config = new Command('config')
    .summary("gemwh's settings: the project's gemwh.json, the user's config file, .env")
    .description(
      "Settings come from flags, then environment variables (a project's .env adds to them), then the project's " +
        "gemwh.json (found by walking up from the current folder), then the user's config file, then the defaults. " +
        '`gemwh help configuration` describes the files and every key.',
    )
    .addHelpText('after', '\nExamples:\n  $ gemwh config show\n  $ gemwh --config ci/gemwh.json config show --json\n');
  for (const module of SUBCOMMANDS) config.addCommand(module.default(deps));
  return config;
}
