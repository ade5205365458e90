import type { Command } from 'commander';
import type { Deps } from '../../deps.js';
import { commandGroup, type CommandFactory } from '../command-factory.js';

// One line per subcommand, in help order.
const SUBCOMMANDS: Array<{ default: CommandFactory }> = await Promise.all([
  import('./login.js'),
  import('./status.js'),
  import('./logout.js'),
]);

export default function authCommand(deps: Deps): Command {
  return commandGroup(
    deps,
    {
      name: 'auth',
      summary: 'store, show and remove the Gemini API key',
      description:
        'The API key is taken from --api-key, then $GEMINI_API_KEY, then $GOOGLE_API_KEY, then the key stored by ' +
        '`gemwh auth login` in the secret store (the OS keychain unless --secret-store file).',
      examples: [
        'gemwh auth login',
        'printf %s "$KEY" | gemwh auth login',
        'gemwh auth status --json',
      ],
    },
    SUBCOMMANDS,
  );
}
