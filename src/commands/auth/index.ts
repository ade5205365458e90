import { Command } from 'commander';
import type { Deps } from '../../deps.js';

async function context(deps: Deps, command: Command) {
  const { contextOf } = await import('../context.js');
  return contextOf(deps, command);
}

export default function authCommand(deps: Deps): Command {
  const auth = new Command('auth')
    .summary('store, show and remove the Gemini API key')
    .description(
      'The API key is taken from --api-key, then $GEMINI_API_KEY, then $GOOGLE_API_KEY, then the key stored by ' +
        '`gemwh auth login` in the secret store (the OS keychain unless --secret-store file).',
    )
    .addHelpText('after', '\nExamples:\n  $ gemwh auth login\n  $ printf %s "$KEY" | gemwh auth login\n  $ gemwh auth status --json\n');

  auth
    .command('login')
    .description('Store an API key: read from stdin when piped, else typed at a hidden prompt.')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  $ gemwh auth login                      # prompts, input hidden\n  $ pass show gemini/api-key | gemwh auth login\n')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { runAuthLogin } = await import('./run.js');
      await runAuthLogin({ json: opts.json === true }, await context(deps, command));
    });

  auth
    .command('status')
    .description('Show where the API key comes from (redacted). Exits 4 when there is none.')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ gemwh auth status\n  $ gemwh auth status --json | jq -r .source\n')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { runAuthStatus } = await import('./run.js');
      await runAuthStatus({ json: opts.json === true }, await context(deps, command));
    });

  auth
    .command('logout')
    .description('Remove the stored API key. Keys in the environment are left alone (and named).')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  $ gemwh auth logout\n  $ gemwh --secret-store file auth logout --json\n')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { runAuthLogout } = await import('./run.js');
      await runAuthLogout({ json: opts.json === true }, await context(deps, command));
    });

  return auth;
}
