import { Command } from 'commander';
import type { Deps } from '../../deps.js';

export default function deleteCommand(deps: Deps): Command {
  return new Command('delete')
    .summary('delete a webhook and the secrets gemwh kept for it')
    .description('Delete a webhook. On a terminal gemwh asks y/N first; elsewhere --yes is required. The local signing secrets go too.')
    .argument('<id>', 'webhook id (see gemwh list)')
    .option('-y, --yes', 'do not ask')
    .option('--json', 'print {"id", "deleted", "localSecretsRemoved"} as JSON')
    .addHelpText('after', '\nExamples:\n  $ gemwh delete k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f\n  $ gemwh delete k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --yes --json\n')
    .action(async (id: string, opts: { yes?: boolean; json?: boolean }, command: Command) => {
      const [{ runDelete }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runDelete({ id, yes: opts.yes === true, json: opts.json === true }, contextOf(deps, command));
    });
}
