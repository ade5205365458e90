import { Command } from 'commander';
import type { Deps } from '../../deps.js';

export default function authLogoutCommand(deps: Deps): Command {
  return new Command('logout')
    .description('Remove the stored API key. Keys in the environment are left alone (and named).')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  $ gemwh auth logout\n  $ gemwh --secret-store file auth logout --json\n')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const [{ runAuthLogout }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runAuthLogout({ json: opts.json === true }, contextOf(deps, command));
    });
}
