import { Command, Option } from 'commander';
import { parsePositiveDuration } from '../../flags/duration.js';
import { parseCount, parseRate, parseTimeScale } from '../../flags/values.js';
import type { EmulatorDeliveryOptions } from '../../emulator/server.js';

/** The delivery flags of `gemwh emulator`: time scale, duplicates, timeout, auto-disable. */

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
