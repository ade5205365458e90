import { Command, Option } from 'commander';
import { parsePositiveDuration } from '../../flags/duration.js';
import type { Deps } from '../../deps.js';
import { parseCount, parseRate, parseTimeScale } from '../../flags/values.js';
import type { EmulatorDeliveryOptions } from '../../emulator/server.js';

/**
 * The delivery side of `gemwh emulator`: its flags (time scale, duplicates, timeout, auto-disable)
 * and the `deliveries` and `jwks rotate` subcommands that inspect and steer a running emulator.
 */

export interface DeliveryFlags {
  timeScale: string;
  duplicateRate: string;
  deliveryTimeout: string;
  disableAfter: string;
}

export function addDeliveryOptions(command: Command): Command {
  return command
    .addOption(new Option('--time-scale <k>', 'run emulated time K times faster (retry delays, job delays, JWKS key retirement)').default('1'))
    .addOption(new Option('--duplicate-rate <r>', 'share (0..1) of deliveries sent twice on purpose, with the same webhook-id').default('0'))
    .addOption(new Option('--delivery-timeout <duration>', 'a receiver slower than this (real time) counts as failed').default('5s'))
    .addOption(new Option('--disable-after <n>', 'consecutive failed attempts that disable a webhook').default('20'));
}

/** The flags as engine options; `log` gets one line per finished attempt (undefined: --quiet). */
export function deliveryOptionsFrom(flags: DeliveryFlags, log?: (line: string) => void): EmulatorDeliveryOptions {
  const timeScale = parseTimeScale(flags.timeScale);
  const disableAfter = parseCount(flags.disableAfter, '--disable-after', 1, 1_000_000, 'e.g. --disable-after 20.');
  const timeoutMs = parsePositiveDuration(flags.deliveryTimeout, '--delivery-timeout');
  return {
    timeScale,
    duplicateRate: parseRate(flags.duplicateRate, '--duplicate-rate'),
    timeoutMs,
    disableAfterFailures: disableAfter,
    ...(log
      ? {
          onAttempt: (a) => {
            const result = a.status !== undefined ? `HTTP ${a.status}` : (a.error ?? '');
            const next = a.nextRetryDelayMs !== undefined ? `, retry in ${a.nextRetryDelayMs / 1000} s (emulated)` : a.gaveUp ? `, ${a.gaveUp}` : '';
            log(
              `deliver ${a.eventType} ${a.deliveryId} -> ${a.target} attempt ${a.attempt}${a.duplicate ? ' (duplicate)' : ''}: ` +
                `${a.outcome} ${result}${a.latencyMs !== undefined ? ` (${Math.round(a.latencyMs)} ms)` : ''}${next}`,
            );
          },
        }
      : {}),
  };
}

export function addDeliveryCommands(command: Command, deps: Deps): Command {
  command.addCommand(
    new Command('deliveries')
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
      }),
  );
  const jwks = new Command('jwks')
    .summary("manage the emulator's JWKS (the keys of dynamic deliveries)")
    .description("Manage the RS256 keys a running emulator signs dynamic deliveries with, published at <emulator>/.well-known/jwks.json.")
    .addHelpText('after', '\nExamples:\n  $ gemwh emulator jwks rotate\n  $ gemwh emulator jwks rotate --drop-old --api-root http://127.0.0.1:8790\n');
  jwks.addCommand(
    new Command('rotate')
      .summary('sign with a new key; keep the old one published for an hour (emulated)')
      .description(
        'Make a running emulator sign dynamic deliveries with a new RS256 key. The previous key stays in the ' +
        'JWKS for 1 hour of emulated time, so receivers that cached it keep working; --drop-old withdraws it ' +
        'at once (tokens it signed then fail with an unknown kid). Prints the new kid.',
      )
      .addOption(new Option('--drop-old', 'withdraw the previous keys at once'))
      .addOption(new Option('--json', 'print {"kid", "keys"} as JSON'))
      .addHelpText(
        'after',
        '\nExamples:\n  $ gemwh emulator jwks rotate --api-root http://127.0.0.1:8790\n  $ gemwh emulator jwks rotate --drop-old --json\n',
      )
      .action(async (_flags: unknown, sub: Command) => {
        const opts = sub.optsWithGlobals<{ dropOld?: boolean; json?: boolean }>();
        const [{ runJwksRotate }, { contextOf }] = await Promise.all([import('./run-jwks-rotate.js'), import('../context.js')]);
        await runJwksRotate({ dropOld: opts.dropOld === true, json: opts.json === true }, contextOf(deps, sub));
      }),
  );
  command.addCommand(jwks);
  return command;
}
