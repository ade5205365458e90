import { Command } from 'commander';
import type { Deps } from '../../deps.js';
import type { CommandFactory } from '../command-factory.js';

// One line per subcommand, in help order; each file stays light (its action loads the rest).
const SUBCOMMANDS: Array<{ default: CommandFactory }> = await Promise.all([
  import('./list.js'),
  import('./show.js'),
  import('./export.js'),
]);

export default function deliveriesCommand(deps: Deps): Command {
  const deliveries = new Command('deliveries')
    .summary('the history `gemwh listen` recorded: list, show and export deliveries')
    .description(
      'Read the journal `gemwh listen` writes (every request it received, and every forward attempt) as a history. ' +
        'A delivery is named by its webhook-id (msg_…), its journal key (<session>.<seq>) or a unique prefix of either.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh deliveries list --verdict rejected --since 1h\n' +
        '  $ gemwh deliveries show --last\n' +
        '  $ gemwh deliveries export msg_2Kq8 --as curl --to 3000\n',
    );
  for (const module of SUBCOMMANDS) deliveries.addCommand(module.default(deps));
  return deliveries;
}
