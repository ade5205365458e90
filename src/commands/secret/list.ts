import { Command } from 'commander';
import type { Deps } from '../../deps.js';

export default function secretListCommand(deps: Deps): Command {
  return new Command('list')
    .description('List the webhooks gemwh holds secrets for: count, created, expiry; secrets redacted.')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ gemwh secret list\n  $ gemwh --secret-store file secret list --json\n')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const [{ runSecretList }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runSecretList({ json: opts.json === true }, contextOf(deps, command));
    });
}
