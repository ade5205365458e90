import { Command } from 'commander';
import type { Deps } from '../../deps.js';

export default function secretSetCommand(deps: Deps): Command {
  return new Command('set')
    .description('Store the signing secret of a webhook, read from stdin (or a hidden prompt on a terminal); replaces what gemwh held.')
    .argument('<id>', 'webhook id')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ printf %s "$SECRET" | gemwh secret set k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f\n  $ gemwh secret set k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f     # prompts, input hidden\n',
    )
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const [{ runSecretSet }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runSecretSet({ id, json: opts.json === true }, contextOf(deps, command));
    });
}
