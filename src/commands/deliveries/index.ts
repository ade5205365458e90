import type { Command } from 'commander';
import type { Deps } from '../../deps.js';
import { commandGroup, type CommandFactory } from '../command-factory.js';

// One line per subcommand, in help order.
const SUBCOMMANDS: Array<{ default: CommandFactory }> = await Promise.all([
  import('./list.js'),
  import('./show.js'),
  import('./export.js'),
]);

export default function deliveriesCommand(deps: Deps): Command {
  return commandGroup(
    deps,
    {
      name: 'deliveries',
      summary: 'the history `gemwh listen` recorded: list, show and export deliveries',
      description:
        'Read the journal `gemwh listen` writes (every request it received, and every forward attempt) as a history. ' +
        'A delivery is named by its webhook-id (msg_…), its journal key (<session>.<seq>) or a unique prefix of either.',
      examples: [
        'gemwh deliveries list --verdict rejected --since 1h',
        'gemwh deliveries show --last',
        'gemwh deliveries export msg_2Kq8 --as curl --to 3000',
      ],
    },
    SUBCOMMANDS,
  );
}
