import { formatJson, type Column } from '../../core/table.js';
import type { EmulatorControl } from '../../emulator/control-client.js';
import type { WireAttempt } from '../../emulator/deliveries/routes.js';
import { attemptResult, openEmulatorControl } from '../../emulator/control-client.js';
import type { CommandContext } from '../context.js';

export interface EmulatorDeliveriesOptions {
  webhookId?: string;
  deliveryId?: string;
  json: boolean;
}

const GAVE_UP: Readonly<Record<NonNullable<WireAttempt['gave_up']>, string>> = {
  retries_exhausted: 'gave up: 24 h of retries over',
  webhook_auto_disabled: 'gave up: webhook auto-disabled',
  webhook_unavailable: 'gave up: webhook disabled or deleted',
  not_retried: 'ping: not retried',
  emulator_stopped: 'emulator stopped',
};

/** `gemwh emulator deliveries`: every attempt the emulator made, oldest first. */
export async function runEmulatorDeliveries(options: EmulatorDeliveriesOptions, ctx: CommandContext, control?: EmulatorControl): Promise<void> {
  const { deps } = ctx;
  const api = control ?? (await openEmulatorControl('gemwh emulator deliveries', ctx.globals, deps));
  const { attempts } = await api.request<{ attempts: WireAttempt[] }>('GET', '/_emulator/deliveries', {
    query: { webhook_id: options.webhookId, delivery_id: options.deliveryId },
  });
  const out = deps.io.stdout;
  if (options.json) {
    out.write(formatJson({ attempts }));
    return;
  }
  if (attempts.length === 0) {
    deps.io.stderr.write(`${await nothingListed(api, options)}\n`);
    return;
  }
  const columns: Array<Column<WireAttempt>> = [
    { header: 'TIME', value: (a) => a.time.replace(/\.\d+Z$/, 'Z') },
    { header: 'EVENT', value: (a) => a.event_type },
    { header: 'DELIVERY ID', value: (a) => a.delivery_id },
    { header: 'WEBHOOK', value: (a) => a.webhook_id ?? '(dynamic)', dropOrder: 1 },
    { header: 'TARGET', value: (a) => a.target, minWidth: 16 },
    { header: 'ATTEMPT', value: (a) => `${a.attempt}${a.duplicate ? ' (duplicate)' : ''}` },
    { header: 'RESULT', value: (a) => attemptResult(a), minWidth: 12 },
    { header: 'LATENCY', value: (a) => (a.latency_ms === undefined ? '' : `${Math.round(a.latency_ms)} ms`), dropOrder: 2 },
    { header: 'NEXT', value: (a) => (a.next_retry_time ? `retry at ${a.next_retry_time.replace(/\.\d+Z$/, 'Z')}` : a.gave_up ? GAVE_UP[a.gave_up] : ''), minWidth: 12 },
  ];
  await ctx.out.table(attempts, columns);
}

/** Why the list is empty: nothing sent yet, or nothing that passes the filters. */
async function nothingListed(api: EmulatorControl, options: EmulatorDeliveriesOptions): Promise<string> {
  const filters = [
    ...(options.deliveryId !== undefined ? [`--delivery ${options.deliveryId}`] : []),
    ...(options.webhookId !== undefined ? [`--webhook ${options.webhookId}`] : []),
  ];
  const sendOne = 'Send one with `gemwh trigger EVENT_TYPE`.';
  if (filters.length === 0) return `No delivery attempts yet. ${sendOne}`;
  const { attempts } = await api.request<{ attempts: WireAttempt[] }>('GET', '/_emulator/deliveries');
  if (attempts.length === 0) return `No delivery attempts yet. ${sendOne}`;
  return (
    `No delivery attempt matches ${filters.join(' and ')} (the emulator has ${attempts.length} attempt${attempts.length === 1 ? '' : 's'} in all). ` +
    'Run `gemwh emulator deliveries` without filters to list them all.'
  );
}
