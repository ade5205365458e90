import { Argument, Command, Option } from 'commander';
import { completeWith } from '../../completion/hints.js';
import { parsePositiveDuration } from '../../flags/duration.js';
import { parseOutgoingHeader } from '../../core/headers.js';
import { parseSetAssignment } from '../../core/set-path.js';
import { parseTarget } from '../../flags/target.js';
import type { Deps } from '../../deps.js';
import { TAMPER_MODES, type TamperMode } from '../../replay/tamper-modes.js';
import type { ReplayFixtureOptions } from './run-fixture.js';
import { parseCount, parseWebhookIdHeader } from '../../flags/values.js';
import { collect } from '../collect.js';
import { secretEnvOption, secretOption, webhookOption } from '../secret-options.js';
import { answerTimeoutOption, insecureOption } from '../receiver-options.js';

const MAX_COUNT = 100_000;
const MAX_CONCURRENCY = 64;

interface RawFlags {
  to: string;
  secret?: string[];
  secretEnv?: string[];
  webhook?: string;
  dynamic?: boolean;
  audience?: string;
  id?: string;
  timestamp?: string;
  set?: string[];
  count: string;
  concurrency: string;
  header?: string[];
  repeatId?: boolean;
  rotationHeader?: boolean;
  tamper?: TamperMode;
  timeout: string;
  insecure?: boolean;
  json?: boolean;
}

export default function replayFixtureCommand(deps: Deps): Command {
  return new Command('fixture')
    .summary('send a signed fixture event (or a JSON file) to a receiver')
    .description(
      'Send a signed delivery of a catalog event (or of a JSON file) to a receiver, and check its answer. ' +
        'Each send gets a fresh webhook-id (msg_…) and the current webhook-timestamp; the body is compact JSON, ' +
        'sent byte for byte as signed.\n\n' +
        'Valid deliveries must be answered 2xx; with --tamper the receiver must refuse (anything but 2xx). ' +
        'Exit 9 when it does not, 7 when it cannot be reached.',
    )
    .addArgument(completeWith(new Argument('<event-type|file.json>', 'event type from the catalog, or a JSON file'), 'event-types-or-files'))
    .requiredOption('--to <target>', 'receiver: PORT, HOST:PORT[/PATH] or URL (without a path: /)')
    .addOption(secretOption('sign with'))
    .addOption(secretEnvOption('sign with'))
    .addOption(webhookOption('sign with', { repeatable: false }))
    .addOption(new Option('--dynamic', "send a dynamic delivery: an RS256 JWT signed with gemwh's dev key (see `replay jwks`)"))
    .addOption(new Option('--audience <aud>', 'JWT aud claim with --dynamic (default: the target URL)'))
    .addOption(new Option('--id <webhook-id>', 'use this webhook-id instead of a fresh one'))
    .addOption(new Option('--timestamp <seconds>', 'use this webhook-timestamp (Unix seconds) instead of now'))
    .addOption(new Option('--set <path=value>', 'change a field, e.g. data.output_file_uri=gs://b/r.jsonl (JSON or text; repeatable)').argParser(collect))
    .addOption(new Option('--count <n>', 'number of deliveries to send').default('1'))
    .addOption(new Option('--concurrency <n>', `deliveries in flight at once (max ${MAX_CONCURRENCY})`).default('1'))
    .addOption(new Option('--header <"K: V">', 'extra request header (repeatable)').argParser(collect))
    .addOption(new Option('--repeat-id', 'send each delivery twice with the same webhook-id, like a retry'))
    .addOption(new Option('--rotation-header', 'add a stale signature from another secret before the valid one'))
    .addOption(new Option('--tamper <mode>', 'break the delivery; the receiver must refuse it').choices(TAMPER_MODES))
    .addOption(answerTimeoutOption())
    .addOption(insecureOption())
    .addOption(new Option('--json', 'one JSON object per send (NDJSON)'))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh replay fixture batch.succeeded --to 3000 --secret-env GEMINI_WEBHOOK_SECRET\n' +
        '  $ gemwh replay fixture video.generated --to localhost:8080/hooks --webhook k0h9q38f6ejj --tamper body\n' +
        '  $ gemwh replay fixture ./event.json --to https://hooks.example.com/gemini --dynamic --count 20 --concurrency 5 --json\n',
    )
    .action(async (source: string, _flags: RawFlags, command: Command) => {
      const options = toReplayFixtureOptions(source, command.optsWithGlobals<RawFlags>());
      const [{ runReplayFixture }, { contextOf }] = await Promise.all([import('./run-fixture.js'), import('../context.js')]);
      await runReplayFixture(options, contextOf(deps, command));
    });
}

export function toReplayFixtureOptions(source: string, flags: RawFlags): ReplayFixtureOptions {
  return {
    source,
    target: parseTarget(flags.to),
    secrets: flags.secret ?? [],
    secretEnv: flags.secretEnv ?? [],
    webhookIds: flags.webhook ? [flags.webhook] : [],
    dynamic: flags.dynamic === true,
    audience: flags.audience,
    id: flags.id === undefined ? undefined : parseWebhookIdHeader(flags.id),
    timestamp: flags.timestamp === undefined ? undefined : parseCount(flags.timestamp, '--timestamp', 0, 99_999_999_999, 'Give Unix seconds, e.g. --timestamp $(date +%s).'),
    sets: (flags.set ?? []).map(parseSetAssignment),
    count: parseCount(flags.count, '--count', 1, MAX_COUNT, `e.g. --count ${Math.min(MAX_COUNT, 10)}`),
    concurrency: parseCount(flags.concurrency, '--concurrency', 1, MAX_CONCURRENCY, `e.g. --concurrency ${Math.min(MAX_CONCURRENCY, 10)}`),
    headers: (flags.header ?? []).map((text) =>
      parseOutgoingHeader(text, { example: 'X-Trace: abc123', setByTheSenderHint: 'Drop this header; to test a malformed request use --tamper.' }),
    ),
    repeatId: flags.repeatId === true,
    rotationHeader: flags.rotationHeader === true,
    tamper: flags.tamper,
    timeoutMs: parsePositiveDuration(flags.timeout, '--timeout'),
    insecure: flags.insecure === true,
    json: flags.json === true,
  };
}
