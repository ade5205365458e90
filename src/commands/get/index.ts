import { Command } from 'commander';
import type { Deps } from '../../deps.js';

export default function getCommand(deps: Deps): Command {
  return new Command('get')
    .summary('show one webhook')
    .description('Show one webhook: its fields, masked signing secrets with expiry, and what gemwh holds locally.')
    .argument('<id>', 'webhook id (see gemwh list)')
    .option('--json', 'print the webhook as JSON')
    .addHelpText('after', '\nExamples:\n  $ gemwh get k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f\n  $ gemwh get k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --json | jq .subscribed_events\n')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const [{ runGet }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runGet({ id, json: opts.json === true }, contextOf(deps, command));
    });
}
