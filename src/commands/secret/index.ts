import type { Command } from 'commander';
import type { Deps } from '../../deps.js';
import { commandGroup, type CommandFactory } from '../command-factory.js';

// One line per subcommand, in help order.
const SUBCOMMANDS: Array<{ default: CommandFactory }> = await Promise.all([
  import('./list.js'),
  import('./show.js'),
  import('./set.js'),
  import('./delete.js'),
]);

export default function secretCommand(deps: Deps): Command {
  return commandGroup(
    deps,
    {
      name: 'secret',
      summary: 'the signing secrets gemwh keeps locally: list, show, set, delete',
      description:
        'Manage the signing secrets gemwh keeps in the secret store (the OS keychain unless --secret-store file). ' +
        'These are local copies: the API never shows a secret again after create or rotate.',
      examples: [
        'gemwh secret list',
        'printf %s "$SECRET" | gemwh secret set k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f',
        'gemwh secret show k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --reveal',
      ],
    },
    SUBCOMMANDS,
  );
}
