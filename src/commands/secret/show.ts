import { Command } from 'commander';
import type { Deps } from '../../deps.js';

export default function secretShowCommand(deps: Deps): Command {
  return new Command('show')
    .description('Show the secrets of one webhook, redacted unless --reveal. Piped with --reveal: the values only, newest first.')
    .argument('<id>', 'webhook id')
    .option('--reveal', 'print the full secrets')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ gemwh secret show k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f\n  $ export WEBHOOK_SECRET="$(gemwh secret show k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --reveal | head -n1)"\n',
    )
    .action(async (id: string, opts: { reveal?: boolean; json?: boolean }, command: Command) => {
      const [{ runSecretShow }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runSecretShow({ id, reveal: opts.reveal === true, json: opts.json === true }, contextOf(deps, command));
    });
}
