import type { Command } from 'commander';
import type { Deps } from '../../deps.js';
import { commandGroup, type CommandFactory } from '../command-factory.js';

// One line per subcommand, in help order.
const SUBCOMMANDS: Array<{ default: CommandFactory }> = await Promise.all([
  import('./fixture.js'),
  import('./delivery.js'),
  import('./jwks.js'),
]);

export default function replayCommand(deps: Deps): Command {
  return commandGroup(
    deps,
    {
      name: 'replay',
      summary: 'send signed deliveries to a receiver: fixture events, recorded deliveries, edge cases',
      description:
        'Send signed webhook deliveries to a receiver and check how it answers.',
      examples: [
        'gemwh replay fixture batch.succeeded --to 3000 --secret-env GEMINI_WEBHOOK_SECRET',
        'gemwh replay delivery --last --to 3000',
        'gemwh replay jwks --jwks-out jwks.json',
      ],
    },
    SUBCOMMANDS,
  );
}
