import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import { isProcessAlive } from '../../fs/file-lock.js';
import { parseDuration, parseDurationSeconds, parsePositiveDuration } from '../../flags/duration.js';
import { parseEventList } from '../../core/events.js';
import { parseOutgoingHeader } from '../../core/headers.js';
import { parseTarget } from '../../flags/target.js';
import type { Deps } from '../../deps.js';
import { UsageError } from '../../errors.js';
import { parseByteSize, parseCount, parseNonEmpty, parsePath, parsePort } from '../../flags/values.js';
import { checkPublicUrl } from '../../listen/public-url.js';
import { parseRoute } from '../../flags/route.js';
import { parseRelayFilter } from '../../relay/filter.js';
import type { ListenFrontEnd, ListenOptions } from './run.js';
import { parseTunnelTool, parseUrlPattern, TUNNEL_DEFAULTS, type TunnelChoice, type TunnelSettings } from '../../tunnel/tools.js';
import { completeWith } from '../../completion/hints.js';
import { collect } from '../collect.js';
import { secretEnvOption, secretOption, webhookOption } from '../secret-options.js';

interface RawFlags {
  host: string;
  port: string;
  path?: string;
  webhook?: string[];
  secret?: string[];
  secretEnv?: string[];
  jwksUrl?: string;
  jwksFile?: string;
  audience?: string[];
  tolerance: string;
  forward?: string[];
  route?: string[];
  events?: string[];
  allowUnknownEvents?: boolean;
  header?: string[];
  forwardTimeout: string;
  insecure?: boolean;
  forwardAsReceived?: boolean;
  retryInitial: string;
  retryMax: string;
  maxBody: string;
  journal?: string | false;
  journalMaxSize: string;
  journalKeep: string;
  fsync?: boolean;
  json?: boolean;
  quiet?: boolean;
  readyFile?: string;
  publicUrl?: string;
  tunnel?: string;
  tunnelCommand?: string;
  tunnelUrlPattern?: string;
  /** Optional here: only meaningful with --tunnel (commander always fills in the default). */
  tunnelCheckInterval?: string;
  tunnelTimeout?: string;
  emulator?: boolean;
  demo?: boolean;
  relay?: string;
  relayTokenEnv?: string;
  relayFilter?: string[];
}

export default function listenCommand(deps: Deps): Command {
  return new Command('listen')
    .summary('receive deliveries locally: verify, explain, journal, forward to your app')
    .description(
      'Run a local webhook receiver. Every delivery is verified (static HMAC secrets ' +
        'or the JWT of a dynamic webhook), written to the journal, answered 2xx at once ' +
        'and forwarded to your app (--forward), retried with backoff until it is taken. ' +
        'Rejections get a 4xx with the reason in the body. On a terminal it shows a ' +
        'live view; otherwise (or with --json) NDJSON events on stdout. Static secrets ' +
        'default to those of every webhook gemwh keeps. Ctrl-C or SIGTERM stops it.',
    )
    .addOption(new Option('--host <address>', 'address to listen on').default('127.0.0.1'))
    .addOption(new Option('--port <n>', 'port to listen on (0: any free port)').default('8787'))
    .addOption(new Option('--path <path>', 'accept deliveries only on this path (default: any path)'))
    .addOption(webhookOption('verify with', { repeatable: true, note: 'default: every stored webhook' }))
    .addOption(secretOption('verify with'))
    .addOption(secretEnvOption('verify with'))
    .addOption(new Option('--jwks-url <url>', "dynamic webhooks: JWKS to fetch keys from (default: Google's)"))
    .addOption(new Option('--jwks-file <file>', 'dynamic webhooks: a local JWKS file instead'))
    .addOption(new Option('--audience <aud>', 'dynamic webhooks: require this JWT aud claim (repeatable: any one will do)').argParser(collect))
    .addOption(new Option('--tolerance <duration>', 'allowed clock skew of webhook-timestamp / JWT times').default('5m'))
    .addOption(new Option('--forward <target>', 'forward verified deliveries here: PORT, HOST:PORT[/PATH] or URL (repeatable)').argParser(collect))
    .addOption(new Option('--route <pattern=target>', "forward these event types elsewhere, e.g. 'batch.*=localhost:3000/batch' (repeatable)").argParser(collect))
    .addOption(new Option('--events <types>', 'forward only these event types (globs like batch.*; comma-separated or repeated)').argParser(collect))
    .addOption(new Option('--allow-unknown-events', "accept event types gemwh's catalog does not know in --events and --route (the API's enum is open)"))
    .addOption(new Option('--header <"K: V">', 'add a header to every forwarded request (repeatable)').argParser(collect))
    .addOption(new Option('--forward-timeout <duration>', 'time allowed for the app to answer a forward').default('30s'))
    .addOption(new Option('--insecure', "forward to an https app even if its TLS certificate is untrusted (a local self-signed one)"))
    .addOption(
      new Option(
        '--forward-as-received',
        'forward retries and resumed deliveries with their original webhook-timestamp and signature (default: signed afresh, as Gemini does)',
      ),
    )
    .addOption(new Option('--retry-initial <duration>', 'first retry delay of a failed forward (doubles each time)').default('1s'))
    .addOption(new Option('--retry-max <duration>', 'longest delay between two forward retries').default('60s'))
    .addOption(new Option('--max-body <size>', 'largest body accepted; larger ones get 413').default('1MiB'))
    .addOption(new Option('--journal <file>', 'journal file (default: $XDG_STATE_HOME/gemwh/journal.ndjson)'))
    .addOption(new Option('--no-journal', 'keep no journal: no crash safety, no resumed forwards, no `replay delivery`'))
    .addOption(new Option('--journal-max-size <size>', 'rotate the journal at this size').default('16MiB'))
    .addOption(new Option('--journal-keep <n>', 'rotated journal files to keep (FILE.1 … FILE.N)').default('4'))
    .addOption(new Option('--fsync', 'fsync the journal before each acknowledgement (survives power loss; slower)'))
    .addOption(new Option('--json', 'NDJSON events on stdout, even on a terminal'))
    .addOption(new Option('--quiet', 'only ready, rejected, forward_failed, warning and stopped events'))
    .addOption(new Option('--ready-file <file>', 'write the listening URL to this file once the port is open (removed on exit)'))
    .addOption(new Option('--public-url <url>', 'register a temporary webhook for this tunnel URL; deleted on exit'))
    // Not .choices(): the refusal of another tool's name should point at --tunnel-command.
    .addOption(completeWith(new Option('--tunnel <tool>', 'start a tunnel (cloudflared, ngrok, or auto: whichever is installed) and register a temporary webhook for its URL'), { values: ['cloudflared', 'ngrok', 'auto'] }))
    .addOption(new Option('--tunnel-command <cmd>', "start this tunnel command instead ({port} is the listener's port); its first https URL is used"))
    .addOption(new Option('--tunnel-url-pattern <regex>', "with --tunnel-command: the URL is the first match of this pattern (its first group, if any)"))
    .addOption(new Option('--tunnel-check-interval <duration>', 'how often the running tunnel is probed; two failed probes restart it').default('15s'))
    .addOption(new Option('--tunnel-timeout <duration>', 'time allowed for a new tunnel URL to reach the listener').default('60s'))
    .addOption(new Option('--relay <url>', 'also take the deliveries of this `gemwh relay` channel (https://relay.example/c/<channel>)'))
    .addOption(new Option('--relay-token-env <VAR>', 'with --relay: the environment variable holding the relay token').default('GEMWH_RELAY_TOKEN'))
    .addOption(new Option('--relay-filter <term>', "with --relay: take only matching deliveries: 'type=batch.*' or KEY=VALUE of data.user_metadata (repeatable)").argParser(collect))
    .addOption(new Option('--emulator', 'demo mode: run a local emulator whose webhook (all event types) delivers here; `t` sends an event'))
    .addOption(new Option('--demo', 'with --emulator: send one event of every type at start'))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh listen --emulator --demo --forward 3000\n' +
        "  $ gemwh listen --secret-env GEMINI_WEBHOOK_SECRET --route 'batch.*=localhost:3000/batch' --forward localhost:3000/hooks --json\n" +
        '  $ gemwh listen --tunnel auto --events video.generated --forward 8080\n',
    )
    .action(async (_flags: RawFlags, command: Command) => {
      const flags = command.optsWithGlobals<RawFlags & Record<string, unknown>>();
      const [{ runListen }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      const options = toListenOptions(flags);
      const ctx = contextOf(deps, command);
      const frontEnd: ListenFrontEnd = {
        renderUi: async (session, extras) => {
          const { renderListenUi } = await import('../../ui/index.js');
          await renderListenUi({
            session,
            stdout: deps.io.stdout,
            stdin: deps.io.stdin,
            stderr: deps.io.stderr,
            color: ctx.out.color,
            trigger: extras?.trigger,
          });
        },
      };
      if (flags.emulator && options.tunnel) {
        throw new UsageError('--emulator and --tunnel are alternatives', { hint: '--emulator sends the events itself; --tunnel is for real Gemini deliveries.' });
      }
      if (flags.demo && !flags.emulator) throw new UsageError('--demo needs --emulator', { hint: 'e.g. gemwh listen --emulator --demo' });
      if (flags.emulator) {
        const { runListenWithEmulator } = await import('./run-with-emulator.js');
        await runListenWithEmulator(options, { demo: flags.demo === true }, ctx, frontEnd);
      } else {
        await runListen(options, ctx, frontEnd);
      }
    });
}

export function toListenOptions(flags: RawFlags): ListenOptions {
  const list = (values: string[] | undefined) => values ?? [];
  // Checked as create checks subscribed events: a typo would otherwise silently forward nothing of that type.
  const allowUnknown = flags.allowUnknownEvents === true;
  const events = list(flags.events).length > 0 ? parseEventList(list(flags.events), { flag: '--events', allowPatterns: true, allowUnknown }) : [];
  const retryInitial = parseDuration(flags.retryInitial, '--retry-initial');
  const retryMax = parseDuration(flags.retryMax, '--retry-max');
  if (retryInitial <= 0 || retryMax < retryInitial) {
    throw new UsageError('--retry-initial must be above zero and --retry-max at least as long', { hint: 'e.g. --retry-initial 1s --retry-max 60s' });
  }
  const publicUrl = flags.publicUrl === undefined ? undefined : checkPublicUrl(flags.publicUrl);
  const tunnel = tunnelSettings(flags);
  if (tunnel && publicUrl) {
    throw new UsageError('--public-url and --tunnel/--tunnel-command are alternatives', {
      hint: 'Give --public-url for a tunnel you run yourself, or --tunnel to let gemwh start one.',
    });
  }
  if (flags.relay === undefined && list(flags.relayFilter).length > 0) throw new UsageError('--relay-filter needs --relay', { hint: 'e.g. --relay https://relay.example/c/<channel> --relay-filter owner=alice' });
  return {
    relay: flags.relay === undefined ? undefined : { url: checkRelayUrl(flags.relay), tokenEnv: flags.relayTokenEnv ?? 'GEMWH_RELAY_TOKEN', filter: parseRelayFilter(list(flags.relayFilter)) },
    host: flags.host,
    port: parsePort(flags.port),
    path: flags.path === undefined ? undefined : parsePath(flags.path),
    webhookIds: list(flags.webhook),
    secrets: list(flags.secret),
    secretEnv: list(flags.secretEnv),
    jwksUrl: flags.jwksUrl,
    jwksFile: flags.jwksFile,
    audience: list(flags.audience).map((aud) => parseNonEmpty(aud, '--audience', 'https://hooks.example.com/gemini')!),
    toleranceSec: parseDurationSeconds(flags.tolerance, '--tolerance'),
    forward: list(flags.forward).map(parseTarget),
    routes: list(flags.route).map((route) => parseRoute(route, { allowUnknown })),
    events,
    extraHeaders: list(flags.header).map((text) => parseOutgoingHeader(text)),
    forwardTimeoutMs: parsePositiveDuration(flags.forwardTimeout, '--forward-timeout'),
    forwardInsecure: flags.insecure === true,
    forwardAsReceived: flags.forwardAsReceived === true,
    retry: { initialMs: retryInitial, maxMs: retryMax },
    maxBodyBytes: parseByteSize(flags.maxBody, '--max-body'),
    journal:
      flags.journal === false
        ? false
        : {
            file: flags.journal,
            maxBytes: parseByteSize(flags.journalMaxSize, '--journal-max-size', 64 * 1024),
            keep: parseCount(flags.journalKeep, '--journal-keep', 0, 100),
            fsync: flags.fsync === true,
          },
    json: flags.json === true,
    quiet: flags.quiet === true,
    readyFile: flags.readyFile,
    publicUrl,
    ...(tunnel ? { tunnel } : {}),
    owner: { host: hostname(), pid: process.pid },
    isProcessAlive,
  };
}

function tunnelSettings(flags: RawFlags): TunnelSettings | undefined {
  if (flags.tunnelUrlPattern !== undefined && flags.tunnelCommand === undefined) {
    throw new UsageError('--tunnel-url-pattern needs --tunnel-command', { hint: "e.g. --tunnel-command 'lt --port {port}' --tunnel-url-pattern 'https://\\S+\\.loca\\.lt'" });
  }
  if (flags.tunnel !== undefined && flags.tunnelCommand !== undefined) {
    throw new UsageError('--tunnel and --tunnel-command are alternatives', { hint: 'Give --tunnel cloudflared|ngrok|auto, or your own command with --tunnel-command.' });
  }
  let choice: TunnelChoice;
  if (flags.tunnel !== undefined) choice = parseTunnelTool(flags.tunnel);
  else if (flags.tunnelCommand !== undefined) {
    if (flags.tunnelCommand.trim() === '') throw new UsageError('--tunnel-command is empty', { hint: "e.g. --tunnel-command 'lt --port {port}'" });
    choice = { kind: 'command', command: flags.tunnelCommand, ...(flags.tunnelUrlPattern !== undefined ? { urlPattern: parseUrlPattern(flags.tunnelUrlPattern) } : {}) };
  } else return undefined;
  return {
    choice,
    urlTimeoutMs: TUNNEL_DEFAULTS.urlTimeoutMs,
    reachTimeoutMs: parsePositiveDuration(flags.tunnelTimeout ?? '60s', '--tunnel-timeout'),
    checkIntervalMs: parsePositiveDuration(flags.tunnelCheckInterval ?? '15s', '--tunnel-check-interval'),
    backoff: TUNNEL_DEFAULTS.backoff,
  };
}

function checkRelayUrl(text: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !/^\/c\/[A-Za-z0-9_-]{22}\/?$/.test(url.pathname)) {
    throw new UsageError(`--relay ${text}: expected the channel's client URL, https://HOST/c/<channel id>`, {
      hint: '`gemwh relay channel create` prints the ingest URL https://HOST/in/<id>; clients use https://HOST/c/<id>.',
    });
  }
  return url;
}


