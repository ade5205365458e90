import { Command } from 'commander';
import type { Deps } from '../../deps.js';
import type { CommandFactory } from '../command-factory.js';

// One line per subcommand, in help order; each file stays light (its action loads the rest).
const SUBCOMMANDS: Array<{ default: CommandFactory }> = await Promise.all([
  import('./fixture.js'),
  import('./delivery.js'),
  import('./jwks.js'),
]);

export default function replayCommand(deps: Deps): Command {
  const replay = new Command('replay')
    .summary('send signed deliveries to a receiver: fixture events, recorded deliveries, edge cases')
    .description('Send signed webhook deliveries to a receiver and check how it answers.')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh replay fixture batch.succeeded --to 3000 --secret-env GEMINI_WEBHOOK_SECRET\n' +
        '  $ gemwh replay delivery --last --to 3000\n' +
        '  $ gemwh replay jwks --jwks-out jwks.json\n',
    );
  for (const module of SUBCOMMANDS) replay.addCommand(module.default(deps));
  return replay;
}
