import { Command } from 'commander';
import type { Deps } from '../../deps.js';

export default function pingCommand(deps: Deps): Command {
  return new Command('ping')
    .summary('ask the API to send a test delivery to a webhook')
    .description('Ask the WebhookService to send a test delivery to the webhook\'s uri (PingWebhook). Watch it arrive with gemwh listen.')
    .argument('<id>', 'webhook id (see gemwh list)')
    .option('--json', 'print {"id", "pinged"} as JSON')
    .addHelpText('after', '\nExamples:\n  $ gemwh ping k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f\n  $ gemwh --api-root http://127.0.0.1:8790 ping k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --json\n')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const [{ runPing }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runPing({ id, json: opts.json === true }, contextOf(deps, command));
    });
}
