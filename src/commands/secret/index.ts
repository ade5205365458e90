import { Command } from 'commander';
import type { Deps } from '../../deps.js';

async function context(deps: Deps, command: Command) {
  const { contextOf } = await import('../context.js');
  return contextOf(deps, command);
}

export default function secretCommand(deps: Deps): Command {
  const secret = new Command('secret')
    .summary('the signing secrets gemwh keeps locally: list, show, set, delete')
    .description(
      'Manage the signing secrets gemwh keeps in the secret store (the OS keychain unless --secret-store file). ' +
        'These are local copies: the API never shows a secret again after create or rotate.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh secret list\n' +
        '  $ printf %s "$SECRET" | gemwh secret set k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f\n' +
        '  $ gemwh secret show k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --reveal\n',
    );

  secret
    .command('list')
    .description('List the webhooks gemwh holds secrets for: count, created, expiry; secrets redacted.')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ gemwh secret list\n  $ gemwh --secret-store file secret list --json\n')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { runSecretList } = await import('./run.js');
      await runSecretList({ json: opts.json === true }, await context(deps, command));
    });

  secret
    .command('show')
    .description('Show the secrets of one webhook, redacted unless --reveal. Piped with --reveal: the values only, newest first.')
    .argument('<id>', 'webhook id')
    .option('--reveal', 'print the full secrets')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ gemwh secret show k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f\n  $ export WEBHOOK_SECRET="$(gemwh secret show k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --reveal | head -n1)"\n',
    )
    .action(async (id: string, opts: { reveal?: boolean; json?: boolean }, command: Command) => {
      const { runSecretShow } = await import('./run.js');
      await runSecretShow({ id, reveal: opts.reveal === true, json: opts.json === true }, await context(deps, command));
    });

  secret
    .command('set')
    .description('Store the signing secret of a webhook, read from stdin (or a hidden prompt on a terminal); replaces what gemwh held.')
    .argument('<id>', 'webhook id')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ printf %s "$SECRET" | gemwh secret set k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f\n  $ gemwh secret set k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f     # prompts, input hidden\n',
    )
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const { runSecretSet } = await import('./run.js');
      await runSecretSet({ id, json: opts.json === true }, await context(deps, command));
    });

  secret
    .command('delete')
    .description('Forget the local secrets of a webhook (the webhook itself is not touched).')
    .argument('<id>', 'webhook id')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  $ gemwh secret delete k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f\n  $ gemwh --secret-store file secret delete k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --json\n')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const { runSecretDelete } = await import('./run.js');
      await runSecretDelete({ id, json: opts.json === true }, await context(deps, command));
    });

  return secret;
}
