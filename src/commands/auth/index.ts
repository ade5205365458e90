import { Command } from 'commander';
import type { Deps } from '../../deps.js';
import type { CommandFactory } from '../command-factory.js';

// One line per subcommand, in help order; each file stays light (its action loads the rest).
const SUBCOMMANDS: Array<{ default: CommandFactory }> = await Promise.all([
  import('./login.js'),
  import('./status.js'),
  import('./logout.js'),
]);

export default function authCommand(deps: Deps): Command {
  const auth = new Command('auth')
    .summary('store, show and remove the Gemini API key')
    .description(
      'The API key is taken from --api-key, then $GEMINI_API_KEY, then $GOOGLE_API_KEY, then the key stored by ' +
        '`gemwh auth login` in the secret store (the OS keychain unless --secret-store file).',
    )
    .addHelpText('after', '\nExamples:\n  $ gemwh auth login\n  $ printf %s "$KEY" | gemwh auth login\n  $ gemwh auth status --json\n');

  for (const module of SUBCOMMANDS) auth.addCommand(module.default(deps));
  return auth;
}
