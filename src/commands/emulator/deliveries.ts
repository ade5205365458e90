import { Command, Option } from 'commander';
import type { Deps } from '../../deps.js';

/** `gemwh emulator deliveries`: what a running emulator delivered. */
export default function emulatorDeliveriesCommand(deps: Deps): Command {
  return new Command('deliveries')
    .summary('list every delivery attempt a running emulator made')
    .description(
      'List every delivery attempt of a running `gemwh emulator` (found with --api-root or GEMWH_API_ROOT), ' +
      'oldest first: event, webhook-id, target, attempt number, HTTP status or error, latency, next retry.',
    )
    .addOption(new Option('--webhook <id>', 'only attempts for this webhook'))
    .addOption(new Option('--delivery <webhook-id>', 'only attempts of this delivery (its webhook-id header, msg_…)'))
    .addOption(new Option('--json', 'print {"attempts": [...]} as JSON'))
    .addHelpText(
      'after',
      '\nExamples:\n' +
      '  $ gemwh emulator deliveries --api-root http://127.0.0.1:8790\n' +
      '  $ gemwh emulator deliveries --webhook k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --json\n',
    )
    .action(async (_flags: unknown, sub: Command) => {
      const opts = sub.optsWithGlobals<{ webhook?: string; delivery?: string; json?: boolean }>();
      const [{ runEmulatorDeliveries }, { contextOf }] = await Promise.all([import('./run-deliveries.js'), import('../context.js')]);
      await runEmulatorDeliveries({ webhookId: opts.webhook, deliveryId: opts.delivery, json: opts.json === true }, contextOf(deps, sub));
    });
}
