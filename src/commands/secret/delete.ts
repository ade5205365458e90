import { Command } from 'commander';
import type { Deps } from '../../deps.js';

export default function secretDeleteCommand(deps: Deps): Command {
  return new Command('delete')
    .description('Forget the local secrets of a webhook (the webhook itself is not touched).')
    .argument('<id>', 'webhook id')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  $ gemwh secret delete k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f\n  $ gemwh --secret-store file secret delete k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --json\n')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const [{ runSecretDelete }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runSecretDelete({ id, json: opts.json === true }, contextOf(deps, command));
    });
}
