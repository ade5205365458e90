import { Argument, Command, Option } from 'commander';
import { parseDuration, parsePositiveDuration } from '../../flags/duration.js';
import { parseEventList } from '../../core/events.js';
import { parseSetAssignment } from '../../core/set-path.js';
import { parseTarget } from '../../flags/target.js';
import type { Deps } from '../../deps.js';
import { UsageError } from '../../errors.js';
import type { DeliverySelection, ReplayDeliveryOptions } from './run-delivery.js';
import { collect } from '../collect.js';
import { journalOption } from '../journal-options.js';
import { secretEnvOption, secretOption, webhookOption } from '../secret-options.js';
import { answerTimeoutOption, insecureOption } from '../receiver-options.js';

interface RawFlags {
  last?: boolean;
  since?: string;
  type?: string[];
  to: string;
  resign?: boolean;
  set?: string[];
  secret?: string[];
  secretEnv?: string[];
  webhook?: string;
  journal?: string;
  timeout: string;
  insecure?: boolean;
  json?: boolean;
}

export default function replayDeliveryCommand(deps: Deps): Command {
  return new Command('delivery')
    .summary('re-send deliveries recorded by `gemwh listen` (from its journal)')
    .description(
      'Re-send deliveries recorded by `gemwh listen` to a receiver: the body byte for ' +
        'byte with the original headers, or with --resign under a fresh webhook-timestamp ' +
        'and signature (so a receiver that enforces the 5-minute window accepts them). ' +
        'Pick one by webhook-id (or journal key), the newest with --last, or all from a ' +
        'time window with --since. --to is required; a target without a path gets the ' +
        'path the delivery arrived on. Exit 9 when an answer is not 2xx.',
    )
    .addArgument(new Argument('[id]', 'webhook-id (msg_…), journal key, or a unique prefix of either'))
    .addOption(new Option('--last', 'the most recent accepted delivery'))
    .addOption(new Option('--since <duration>', 'every accepted delivery received within this time, oldest first (e.g. 2h)'))
    .addOption(new Option('--type <types>', "only these event types (globs like 'batch.*'; comma-separated or repeated)").argParser(collect))
    .requiredOption('--to <target>', 'receiver: PORT, HOST:PORT[/PATH] or URL')
    .addOption(new Option('--resign', 'sign again with a fresh timestamp (needs --secret, --secret-env or --webhook)'))
    .addOption(new Option('--set <path=value>', 'change a field of the JSON body, e.g. data.state=FAILED (JSON or text; repeatable); signs anew like --resign').argParser(collect))
    .addOption(secretOption('with --resign: sign with'))
    .addOption(secretEnvOption('with --resign: sign with'))
    .addOption(webhookOption('with --resign: sign with', { repeatable: false }))
    .addOption(journalOption())
    .addOption(answerTimeoutOption())
    .addOption(insecureOption())
    .addOption(new Option('--json', 'one JSON object per send (NDJSON)'))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh replay delivery --last --to 3000\n' +
        "  $ gemwh replay delivery --since 2h --type 'batch.*' --to localhost:3000/hooks --resign --secret-env GEMINI_WEBHOOK_SECRET\n" +
        '  $ gemwh replay delivery msg_2Kq8 --to 3000 --set data.state=FAILED --secret-env GEMINI_WEBHOOK_SECRET\n',
    )
    .action(async (id: string | undefined, _flags: RawFlags, command: Command) => {
      const options = toReplayDeliveryOptions(id, command.optsWithGlobals<RawFlags>());
      const [{ runReplayDelivery }, { contextOf }] = await Promise.all([import('./run-delivery.js'), import('../context.js')]);
      await runReplayDelivery(options, contextOf(deps, command));
    });
}

export function toReplayDeliveryOptions(id: string | undefined, flags: RawFlags): ReplayDeliveryOptions {
  const chosen = [id !== undefined, flags.last === true, flags.since !== undefined].filter(Boolean).length;
  if (chosen !== 1) {
    throw new UsageError(chosen === 0 ? 'which delivery? give an ID, --last or --since' : 'give only one of ID, --last and --since', {
      hint: 'e.g. gemwh replay delivery --last --to 3000',
    });
  }
  let selection: DeliverySelection;
  if (id !== undefined) selection = { kind: 'id', id };
  else if (flags.last) selection = { kind: 'last' };
  else selection = { kind: 'since', ms: parseDuration(flags.since!, '--since') };
  const types = flags.type ?? [];
  if (id !== undefined && types.length > 0) {
    throw new UsageError('--type filters --last and --since; an ID already names one delivery');
  }
  return {
    selection,
    types: types.length > 0 ? parseEventList(types, { flag: '--type', allowPatterns: true, allowUnknown: true }) : [],
    target: parseTarget(flags.to),
    resign: flags.resign === true,
    sets: (flags.set ?? []).map(parseSetAssignment),
    secrets: flags.secret ?? [],
    secretEnv: flags.secretEnv ?? [],
    webhookIds: flags.webhook ? [flags.webhook] : [],
    journal: flags.journal,
    timeoutMs: parsePositiveDuration(flags.timeout, '--timeout'),
    insecure: flags.insecure === true,
    json: flags.json === true,
  };
}
