import { Command } from 'commander';
import type { Deps } from '../../deps.js';

export default function authLoginCommand(deps: Deps): Command {
  return new Command('login')
    .description('Store an API key: read from stdin when piped, else typed at a hidden prompt.')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  $ gemwh auth login                      # prompts, input hidden\n  $ pass show gemini/api-key | gemwh auth login\n')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const [{ runAuthLogin }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runAuthLogin({ json: opts.json === true }, contextOf(deps, command));
    });
}
