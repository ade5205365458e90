import { Command } from 'commander';
import type { Deps } from '../../deps.js';

export default function authStatusCommand(deps: Deps): Command {
  return new Command('status')
    .description('Show where the API key comes from (redacted). Exits 4 when there is none.')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ gemwh auth status\n  $ gemwh auth status --json | jq -r .source\n')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const [{ runAuthStatus }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runAuthStatus({ json: opts.json === true }, contextOf(deps, command));
    });
}
