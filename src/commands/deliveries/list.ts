import { Command, InvalidArgumentError, Option } from 'commander';
import { completeWith } from '../../completion/hints.js';
import { parseDuration } from '../../flags/duration.js';
import { parseEventList } from '../../core/events.js';
import { parseCount } from '../../flags/values.js';
import type { Deps } from '../../deps.js';
import type { ListOptions } from './run.js';
import { FORWARD_STATUSES, VERDICTS, type ForwardStatus, type Verdict } from '../../listen/journal-history.js';
import { collect } from '../collect.js';
import { journalOption } from '../journal-options.js';

interface RawFlags {
  type?: string[];
  verdict?: Verdict[];
  since?: string;
  webhook?: string;
  forwardStatus?: ForwardStatus[];
  limit: string;
  journal?: string;
  json?: boolean;
}

export default function deliveriesListCommand(deps: Deps): Command {
  return new Command('list')
    .summary('list recorded deliveries, newest first, with their verdict and forward status')
    .description(
      'List the deliveries `gemwh listen` recorded, newest first: when, webhook-id, journal key, event type, ' +
        'verdict and how forwarding ended (ok/failed with the last answer, pending while retrying, - when not forwarded). ' +
        'A table on a terminal, TSV in a pipe, a JSON array with --json. Filters combine (all must match).',
    )
    .addOption(new Option('--type <types>', "only these event types (globs like 'batch.*'; comma-separated or repeated)").argParser(collect))
    .addOption(new Option('--verdict <verdict>', `only this verdict (${VERDICTS.join(', ')}; repeatable)`).choices(VERDICTS).argParser(choiceCollector(VERDICTS, '--verdict')))
    .addOption(new Option('--since <duration>', 'only deliveries received within this time (e.g. 30m, 2h, 1d)'))
    .addOption(completeWith(new Option('--webhook <id>', "only deliveries verified with this webhook's secret (from the secret store)"), 'webhook-ids'))
    .addOption(
      new Option('--forward-status <status>', `only this forward status (${FORWARD_STATUSES.join(', ')}; repeatable)`)
        .choices(FORWARD_STATUSES)
        .argParser(choiceCollector(FORWARD_STATUSES, '--forward-status')),
    )
    .addOption(new Option('--limit <n>', 'show at most this many (the newest)').default('50'))
    .addOption(journalOption())
    .addOption(new Option('--json', 'print a JSON array'))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh deliveries list\n' +
        "  $ gemwh deliveries list --type 'batch.*' --verdict rejected --since 2h\n" +
        '  $ gemwh deliveries list --forward-status failed --forward-status pending --json\n',
    )
    .action(async (_flags: RawFlags, command: Command) => {
      const options = toListOptions(command.optsWithGlobals<RawFlags>(), deps.clock.now());
      const [{ runDeliveriesList }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runDeliveriesList(options, contextOf(deps, command));
    });
}

/** A repeatable option limited to `choices` (commander's own choices() check would be replaced by the collector). */
function choiceCollector<T extends string>(choices: readonly T[], flag: string) {
  return (value: string, previous: T[] = []): T[] => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`Allowed choices for ${flag} are ${choices.join(', ')}.`);
    }
    return [...previous, value as T];
  };
}

export function toListOptions(flags: RawFlags, now: number): ListOptions {
  const types = flags.type ?? [];
  return {
    filter: {
      types: types.length > 0 ? parseEventList(types, { flag: '--type', allowPatterns: true, allowUnknown: true }) : [],
      verdicts: flags.verdict ?? [],
      since: flags.since === undefined ? undefined : now - parseDuration(flags.since, '--since'),
      webhook: flags.webhook?.trim() || undefined,
      forwardStatuses: flags.forwardStatus ?? [],
    },
    limit: parseCount(flags.limit, '--limit', 1, 1_000_000, 'e.g. --limit 200'),
    journal: flags.journal,
    json: flags.json === true,
  };
}
