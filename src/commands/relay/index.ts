import { Command, Option } from 'commander';
import { parseDurationSeconds, parsePositiveDuration } from '../../flags/duration.js';
import { parsePort } from '../../flags/values.js';
import type { Deps } from '../../deps.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../../errors.js';
import { parseByteSize } from '../../flags/values.js';
import type { AdminOptions, StoreOptions } from './run.js';
import { collect } from '../collect.js';

interface StoreFlags {
  store?: string;
  retention: string;
  json?: boolean;
  publicUrl?: string;
}

const STORE_ENV = 'GEMWH_RELAY_STORE';

function storeOption(): Option {
  return new Option('--store <dir|redis-url>', `where deliveries, channels and token hashes live: a directory, or redis://… (env: ${STORE_ENV})`);
}

function storeFrom(flags: StoreFlags, deps: Deps): StoreOptions {
  const store = flags.store ?? deps.env[STORE_ENV];
  if (!store) throw new UsageError('--store is required', { hint: `e.g. --store ./relay-data or --store redis://127.0.0.1:6379 (or set ${STORE_ENV})` });
  return { store, retentionMs: parsePositiveDuration(flags.retention, '--retention') };
}

function adminFrom(flags: StoreFlags, deps: Deps): AdminOptions {
  if (flags.publicUrl !== undefined && !/^https?:\/\/[^/]+/i.test(flags.publicUrl)) {
    throw new UsageError(`--public-url ${flags.publicUrl}: expected the relay's public base URL`, { hint: 'e.g. --public-url https://relay.example.com' });
  }
  return { ...storeFrom(flags, deps), json: flags.json === true, publicUrl: flags.publicUrl ?? deps.env.GEMWH_RELAY_PUBLIC_URL };
}

/** The flags every admin subcommand shares; --retention matters only to serve but is accepted by all. */
function admin(command: Command, examples: string[]): Command {
  return command
    .addOption(storeOption())
    .addOption(new Option('--retention <duration>', 'how long deliveries are kept').default('72h').hideHelp())
    .addOption(new Option('--public-url <url>', "the relay's public base URL, to print full URLs (env: GEMWH_RELAY_PUBLIC_URL)"))
    .addOption(new Option('--json', 'print JSON'))
    .addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}\n`).join('')}`);
}

/** Loads the run module (and the context) only when a relay command runs. */
const run = async <T>(pick: (module: typeof import('./run.js')) => (options: T, ctx: CommandContext) => Promise<void>, options: T, deps: Deps, command: Command) => {
  const [module, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
  await pick(module)(options, contextOf(deps, command));
};

export default function relayCommand(deps: Deps): Command {
  const relay = new Command('relay')
    .summary('one public endpoint for a team, fanned out to every developer\'s `gemwh listen`')
    .description(
      'A small server the team runs itself: Gemini delivers to one ingest URL per channel; the relay ' +
        'stores each delivery durably before answering 2xx, and every `gemwh listen --relay` subscribed ' +
        'to the channel receives it (server-sent events, resumed after a laptop slept). Storage is a ' +
        'directory (one instance) or Redis Streams (several instances behind a load balancer). The ' +
        'channel and token commands edit the same --store directly.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh relay serve --store ./relay-data --host 0.0.0.0 --port 8788\n' +
        '  $ gemwh relay channel create --store ./relay-data --public-url https://relay.example.com\n' +
        '  $ gemwh relay token create --store ./relay-data --name alice\n',
    );

  relay.addCommand(
    new Command('serve')
      .summary('run the relay server')
      .description(
        'Receive deliveries on POST /in/<channel>/…, store them (fsync\'d, or in Redis) before answering 2xx, ' +
          'and stream them to subscribed clients on GET /c/<channel> (server-sent events, Authorization: Bearer <token>). ' +
          'GET /healthz answers 200 while serving. Bodies and signatures are never logged. SIGTERM finishes the ' +
          'deliveries being stored, then exits.',
      )
      .addOption(new Option('--host <address>', 'address to listen on').default('127.0.0.1'))
      .addOption(new Option('--port <n>', 'port to listen on (0: any free port)').default('8788'))
      .addOption(storeOption())
      .addOption(new Option('--retention <duration>', 'how long deliveries are kept for clients that were offline').default('72h'))
      .addOption(new Option('--max-body <size>', 'largest delivery accepted').default('1MiB'))
      .addOption(new Option('--verify-secret-env <VAR>', 'refuse deliveries not signed with the secret in $VAR (repeatable: rotation)').argParser(collect))
      .addOption(new Option('--jwks-url <url>', 'refuse dynamic-webhook deliveries whose JWT these keys do not verify'))
      .addOption(new Option('--tolerance <duration>', 'allowed clock skew of webhook-timestamp / JWT times (edge verification)').default('5m'))
      .addOption(new Option('--ready-file <file>', 'write the URL to this file once listening'))
      .addOption(new Option('--json', 'print {"url": …} on stdout when ready'))
      .addHelpText(
        'after',
        '\nExamples:\n' +
          '  $ gemwh relay serve --store ./relay-data --host 0.0.0.0\n' +
          '  $ gemwh relay serve --store redis://redis:6379 --port 8788 --retention 24h\n' +
          '  $ gemwh relay serve --store ./relay-data --verify-secret-env GEMINI_WEBHOOK_SECRET\n',
      )
      .action(async (flags: StoreFlags & { host: string; port: string; maxBody: string; verifySecretEnv?: string[]; jwksUrl?: string; tolerance: string; readyFile?: string }, command: Command) => {
        await run((m) => m.runRelayServe, {
          ...storeFrom(flags, deps),
          host: flags.host,
          port: parsePort(flags.port),
          maxBodyBytes: parseByteSize(flags.maxBody, '--max-body'),
          verifySecretEnv: flags.verifySecretEnv ?? [],
          jwksUrl: flags.jwksUrl,
          toleranceSec: parseDurationSeconds(flags.tolerance, '--tolerance'),
          readyFile: flags.readyFile,
          json: flags.json === true,
        }, deps, command);
      }),
  );

  const channel = new Command('channel')
    .summary('create, list and delete channels (one ingest URL each)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh relay channel create --store ./relay-data --name ml-team --public-url https://relay.example.com\n' +
        '  $ gemwh relay channel list --store ./relay-data\n' +
        '  $ gemwh relay channel delete Qx3… --store ./relay-data\n',
    );
  channel.addCommand(
    admin(
      new Command('create')
        .summary('create a channel and print its ingest URL')
        .description('Create a channel with an id of 128 random bits. Prints the ingest URL to register with `gemwh create --uri`.')
        .addOption(new Option('--name <name>', 'a name for people').default('default')),
      [
        'gemwh relay channel create --store ./relay-data --public-url https://relay.example.com',
        'gemwh create --uri "$(gemwh relay channel create --store ./relay-data --public-url https://relay.example.com)" --events batch.succeeded',
      ],
    ).action(async (flags: StoreFlags & { name: string }, command: Command) => run((m) => m.runChannelCreate, { ...adminFrom(flags, deps), name: flags.name }, deps, command)),
  );
  channel.addCommand(
    admin(new Command('list').summary('list the channels'), ['gemwh relay channel list --store ./relay-data', 'gemwh relay channel list --store redis://127.0.0.1:6379 --json']).action(
      async (flags: StoreFlags, command: Command) => run((m) => m.runChannelList, adminFrom(flags, deps), deps, command),
    ),
  );
  channel.addCommand(
    admin(new Command('delete').summary('delete a channel and the deliveries kept for it').argument('<id>', 'channel id'), [
      'gemwh relay channel delete Qx3fJ0d8c1y2ZrP4n5sT6A --store ./relay-data',
      'gemwh relay channel delete Qx3fJ0d8c1y2ZrP4n5sT6A --store redis://127.0.0.1:6379',
    ]).action(async (id: string, flags: StoreFlags, command: Command) => run((m) => m.runChannelDelete, { ...adminFrom(flags, deps), id }, deps, command)),
  );
  relay.addCommand(channel);

  const token = new Command('token')
    .summary('create, list and revoke the tokens clients subscribe with')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh relay token create --store ./relay-data --name alice\n' +
        '  $ gemwh relay token list --store ./relay-data\n' +
        '  $ gemwh relay token revoke tok_1a2b3c4d5e6f --store ./relay-data\n',
    );
  token.addCommand(
    admin(
      new Command('create')
        .summary('create a token (printed once; the relay keeps only its hash)')
        .addOption(new Option('--name <name>', 'whose token this is').default('token')),
      ['gemwh relay token create --store ./relay-data --name alice', 'export GEMWH_RELAY_TOKEN=$(gemwh relay token create --store ./relay-data --name ci)'],
    ).action(async (flags: StoreFlags & { name: string }, command: Command) => run((m) => m.runTokenCreate, { ...adminFrom(flags, deps), name: flags.name }, deps, command)),
  );
  token.addCommand(
    admin(new Command('list').summary('list the tokens (ids and names, never the tokens)'), ['gemwh relay token list --store ./relay-data', 'gemwh relay token list --store ./relay-data --json']).action(
      async (flags: StoreFlags, command: Command) => run((m) => m.runTokenList, adminFrom(flags, deps), deps, command),
    ),
  );
  token.addCommand(
    admin(new Command('revoke').summary('revoke a token; its clients are disconnected').argument('<id>', 'token id (tok_…)'), [
      'gemwh relay token revoke tok_1a2b3c4d5e6f --store ./relay-data',
      'gemwh relay token revoke tok_1a2b3c4d5e6f --store redis://127.0.0.1:6379',
    ]).action(async (id: string, flags: StoreFlags, command: Command) => run((m) => m.runTokenRevoke, { ...adminFrom(flags, deps), id }, deps, command)),
  );
  relay.addCommand(token);
  return relay;
}
