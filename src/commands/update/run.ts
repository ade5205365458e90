import type { Webhook, WebhookUpdate } from '../../api/types.js';
import { UsageError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { printWebhook } from '../../manage/print-webhook.js';
import { resolveWebhookIdFromApi } from '../../manage/resolve-id.js';
import { parseSubscribedEvents, parseWebhookUri } from '../../manage/validate.js';

export const SETTABLE_STATES = ['enabled', 'disabled'] as const;

export interface UpdateOptions {
  id: string;
  uri?: string;
  /** Replace the subscribed events. */
  events?: string | readonly string[];
  addEvents?: string | readonly string[];
  removeEvents?: string | readonly string[];
  name?: string;
  state?: string;
  allowUnknownEvents: boolean;
  json: boolean;
}

/**
 * Changes only the fields given (the client builds update_mask from them). Adding or removing
 * events reads the current list first, because the API can only replace the whole list.
 */
export async function runUpdate(options: UpdateOptions, ctx: CommandContext): Promise<Webhook> {
  const id = await resolveWebhookIdFromApi(options.id, ctx);
  const { update, current } = await buildUpdate(options, ctx, id);
  if (Object.keys(update).length === 0 && current) {
    // Only --add-events/--remove-events were given and they change nothing: no PATCH, no "Updated".
    ctx.deps.io.stderr.write(`Nothing to update: the events of webhook ${id} are already ${(current.subscribed_events ?? []).join(', ')}.\n`);
    await printWebhook(current, options.json, ctx);
    return current;
  }
  const webhook = await (await ctx.api()).update(id, update);
  ctx.deps.io.stderr.write(`Updated webhook ${webhook.id}: ${Object.keys(update).join(', ')}.\n`);
  await printWebhook(webhook, options.json, ctx);
  return webhook;
}

/** The fields to send; `current` is the webhook as read first, when the events were edited. */
async function buildUpdate(options: UpdateOptions, ctx: CommandContext, id: string): Promise<{ update: WebhookUpdate; current?: Webhook }> {
  const { deps } = ctx;
  const editsEvents = options.addEvents !== undefined || options.removeEvents !== undefined;
  if (options.events !== undefined && editsEvents) {
    throw new UsageError('--events replaces the whole list; it cannot be combined with --add-events or --remove-events');
  }
  const update: WebhookUpdate = {};
  let current: Webhook | undefined;
  if (options.name !== undefined) update.name = options.name;
  if (options.uri !== undefined) update.uri = parseWebhookUri(options.uri, deps, { apiRoot: ctx.apiRoot() });
  if (options.state !== undefined) {
    if (!(SETTABLE_STATES as readonly string[]).includes(options.state)) {
      throw new UsageError(`--state must be enabled or disabled, got "${options.state}"`);
    }
    update.state = options.state as WebhookUpdate['state'];
  }
  if (options.events !== undefined) {
    update.subscribed_events = parseSubscribedEvents(options.events, deps, { allowUnknown: options.allowUnknownEvents });
  }
  if (editsEvents) {
    const add = options.addEvents === undefined ? [] : parseSubscribedEvents(options.addEvents, deps, { flag: '--add-events', allowUnknown: options.allowUnknownEvents });
    // Removing must work for any type the webhook has, known to gemwh or not.
    const remove = options.removeEvents === undefined ? [] : parseSubscribedEvents(options.removeEvents, deps, { flag: '--remove-events', allowUnknown: true, warn: false });
    current = await (await ctx.api()).get(id);
    // proto3 JSON may leave out an empty list.
    const subscribed = current.subscribed_events ?? [];
    for (const type of remove) {
      if (!subscribed.includes(type)) deps.io.stderr.write(`gemwh: warning: --remove-events: webhook ${id} is not subscribed to "${type}"\n`);
    }
    for (const type of add) {
      if (subscribed.includes(type) && !remove.includes(type)) deps.io.stderr.write(`gemwh: note: --add-events: webhook ${id} is already subscribed to "${type}"\n`);
    }
    const next = [...subscribed.filter((type) => !remove.includes(type)), ...add.filter((type) => !subscribed.includes(type))];
    if (next.length === 0) {
      throw new UsageError(`removing ${remove.join(', ')} would leave webhook ${id} with no events`, {
        hint: 'A webhook needs at least one event; to stop deliveries use --state disabled, or delete it.',
      });
    }
    // An edit that changes nothing is left out of the update, so it neither PATCHes nor claims a change.
    if (next.length !== subscribed.length || next.some((type, i) => type !== subscribed[i])) update.subscribed_events = next;
  }
  if (Object.keys(update).length === 0 && !editsEvents) {
    throw new UsageError('nothing to update: give at least one of --uri, --events, --add-events, --remove-events, --name, --state');
  }
  return { update, current };
}

