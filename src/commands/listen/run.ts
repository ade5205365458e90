import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../../fs/atomic-file.js';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { GlobalOptions } from '../../api/credentials.js';
import type { WebhookApi } from '../../api/types.js';
import type { KeySource } from '../../core/jwt.js';
import { createProgress } from '../../core/progress.js';
import { redactSecret } from '../../core/redact.js';
import type { Target } from '../../core/target.js';
import type { SecretCandidate } from '../../core/verdict.js';
import type { Deps } from '../../deps.js';
import { GemwhError, InterruptedError, UsageError } from '../../errors.js';
import { secretsFromFlags, storedSecrets } from '../../secrets/secret-flags.js';
import { loadVerificationSecrets } from '../../secrets/current-secrets.js';
import type { SecretStore } from '../../secrets/types.js';
import type { RelayFilter } from '../../relay/filter.js';
import type { ListenEvent } from '../../listen/events.js';
import type { HeaderPairs, RetryPolicy } from '../../listen/forwarder.js';
import { defaultJournalPath, emulatorJournalPath } from '../../listen/journal-records.js';
import { checkJournalFile } from '../../listen/journal-check.js';
import { createLinePrinter, createNdjsonPrinter, type EventPrinter } from '../../listen/output.js';
import type { TempWebhook, TempWebhookOwner } from '../../listen/public-url.js';
import type { Route } from '../../listen/routing.js';
import { DEFAULT_LIMITS } from '../../listen/receiver.js';
import { showResumeProgress } from '../../listen/resume-progress.js';
import { startListenSession } from '../../listen/session.js';
import { LISTEN_DEFAULTS, type ListenSessionOptions } from '../../listen/session-options.js';
import type { ListenSession } from '../../listen/session-types.js';
import { AUDIENCE_WARNING, loadJwksFile, untilAborted, withAudienceNote } from '../../listen/start-up.js';
import { createListenVerifier } from '../../listen/verification.js';
import { connectForTempWebhook } from '../../listen/temp-webhook-api.js';
import type { TunnelSettings } from '../../tunnel/tools.js';
import type { CommandContext } from '../context.js';

export interface ListenOptions {
  host: string;
  port: number;
  path?: string;
  /** --webhook: verify with these webhooks' stored secrets. */
  webhookIds: string[];
  /** --secret values. */
  secrets: string[];
  /** --secret-env variable names. */
  secretEnv: string[];
  jwksUrl?: string;
  jwksFile?: string;
  /** --audience values: a dynamic delivery's aud must be one of them; empty: not checked. */
  audience: string[];
  toleranceSec: number;
  forward: Target[];
  routes: Route[];
  events: string[];
  extraHeaders: HeaderPairs;
  forwardTimeoutMs: number;
  /** Accept the app's untrusted TLS certificate (--insecure). */
  forwardInsecure?: boolean;
  /** --forward-as-received: never re-sign a forward that waited. */
  forwardAsReceived?: boolean;
  retry: RetryPolicy;
  maxBodyBytes: number;
  /** false: --no-journal. */
  journal: false | { file?: string; maxBytes: number; keep: number; fsync: boolean };
  /** Deliveries come from `--emulator`: without --journal they go to the emulator's own journal. */
  emulatorJournal?: boolean;
  json: boolean;
  quiet: boolean;
  readyFile?: string;
  publicUrl?: URL;
  /** --tunnel / --tunnel-command: start a tunnel to the port and use its URL as the public URL. */
  tunnel?: TunnelSettings;
  /** Who owns temporary --public-url webhooks (this host and process). */
  owner: TempWebhookOwner;
  isProcessAlive: (pid: number) => boolean;
  /** Read webhook secrets from this store instead of the user's (listen --emulator keeps its webhook's secret in memory). */
  secretStore?: SecretStore;
  /** --relay: also take the deliveries of this relay channel (the token is read from $tokenEnv). */
  relay?: { url: URL; tokenEnv: string; filter: RelayFilter };
}

/** The UI's `t` key: makes a delivery of the chosen type happen (listen --emulator). */
export interface ListenTrigger {
  eventTypes: readonly string[];
  /** Resolves once the delivery is queued. */
  trigger(eventType: string): Promise<void>;
}

export interface ListenFrontEnd {
  /**
   * Shows the session on a terminal until the user quits (the Ink UI, loaded by the command so
   * that nothing below commands/ imports src/ui). Without it, a TTY gets plain lines.
   */
  renderUi?: (session: ListenSession, extras?: { trigger?: ListenTrigger }) => Promise<void>;
  /** Called once the port is open and the printer subscribed, before the UI starts (listen --emulator). */
  onListening?: (session: ListenSession) => Promise<void>;
}

/**
 * `gemwh listen`: resolves what to verify with, starts the session, shows its events (NDJSON,
 * the UI, or plain lines) and runs until Ctrl-C / SIGTERM (deps.signal) or the UI quits.
 */
export async function runListen(options: ListenOptions, ctx: CommandContext, frontEnd: ListenFrontEnd = {}): Promise<void> {
  const { deps } = ctx;
  if (options.jwksUrl && options.jwksFile) {
    throw new UsageError('--jwks-url and --jwks-file are alternatives', { hint: 'Give one of them: a URL to fetch keys from, or a local JWKS file.' });
  }
  const now = () => deps.clock.now();
  const stderr = (line: string) => deps.io.stderr.write(`gemwh: ${line}\n`);
  // Start-up steps can hang (a keychain prompt, a slow disk): Ctrl-C / SIGTERM stops them too.
  const starting = <T>(work: Promise<T>, onLate?: (value: T) => unknown) => untilAborted(work, deps.signal, 'listen was starting', onLate);
  // Aborted before anything started: start nothing (a step begun now would outlive the command).
  if (deps.signal.aborted) throw new InterruptedError('stopped while listen was starting', { hint: 'Nothing is listening; run the command again to start it.' });
  const explicit = secretsFromFlags({ secrets: options.secrets, secretEnv: options.secretEnv }, deps.env);
  // Files first: an unusable journal or JWKS file is a usage error before anything is created.
  const journalFile =
    options.journal === false
      ? undefined
      : (options.journal.file ?? (options.emulatorJournal ? emulatorJournalPath : defaultJournalPath)(deps.paths.state));
  if (options.journal !== false && journalFile !== undefined) {
    await starting(checkJournalFile(journalFile, { given: options.journal.file !== undefined }));
  }
  const relayToken = options.relay ? relayTokenFrom(options.relay.tokenEnv, deps) : undefined;
  const keys = await starting(keySource(options, deps));
  // Named webhooks, or by default every stored one unless secrets were given.
  const named = options.webhookIds.length > 0 ? options.webhookIds : undefined;
  const needsStore = named !== undefined || (explicit.length === 0 && !options.publicUrl && !options.tunnel);

  let store: SecretStore | undefined;
  let stored: SecretCandidate[] = [];
  let storedIds: string[] = [];
  if (needsStore) {
    try {
      const opened = options.secretStore ?? (await starting(ctx.store()));
      store = opened;
      const found = await starting(storedSecrets(opened, named, now()));
      stored = found.candidates;
      storedIds = found.webhookIds;
    } catch (error) {
      // Asked for by name: no way around it. By default: dynamic deliveries can still be checked.
      if (named !== undefined || !(error instanceof GemwhError) || error instanceof InterruptedError) throw error;
      stderr(`warning: cannot read stored signing secrets (${error.message}); static deliveries will be rejected`);
      store = undefined;
    }
  }

  let temp: TempWebhook | undefined;
  let cleanupApi: WebhookApi | undefined;
  let tunnel: Awaited<ReturnType<typeof import('../../tunnel/run-tunnel.js').prepareTunnel>> | undefined;
  const printer = choosePrinter(options, ctx, frontEnd);
  let session: ListenSession | undefined;
  let readyFileWritten = false;
  const relayStop = new AbortController();
  let relayClient: { done: Promise<void> } | undefined;

  try {
    if (options.publicUrl) {
      const created = await setUpPublicUrl({ ...options, globals: ctx.globals }, deps, stderr);
      temp = created.temp;
      cleanupApi = created.cleanupApi;
      // Not raced: the webhook must be known to be deleted. The finally below deletes it.
      if (deps.signal.aborted) throw new InterruptedError('stopped while listen was starting', { hint: 'Nothing is listening; run the command again to start it.' });
    }
    if (options.tunnel) {
      const { prepareTunnel } = await import('../../tunnel/run-tunnel.js');
      // Checked before the port opens: a missing tool or API key fails at once, creating nothing.
      tunnel = await starting(prepareTunnel(options.tunnel, { ...options, globals: ctx.globals }, deps, stderr));
      cleanupApi = tunnel.cleanupApi;
    }

    // With --tunnel the temporary webhook (and its secret) comes once the tunnel is up: the
    // verifier reads these arrays at each delivery, so the secret is pushed into them then.
    const tempCandidates: SecretCandidate[] = temp ? [{ secret: temp.secret, label: temp.webhook.id }] : [];
    const candidates = [...explicit, ...stored, ...tempCandidates];
    if (candidates.length === 0 && needsStore) {
      stderr(
        'warning: no signing secrets: static deliveries will be rejected. Pass --secret/--secret-env, --webhook ID, or create a webhook with `gemwh create` first',
      );
    }
    const reloadFrom = store;
    // Google does not document the aud of dynamic deliveries, so without --audience it goes
    // unchecked; every accepted dynamic verdict says so, and a warning event does once.
    let warnAudience: (() => void) | undefined;
    const verifier = createListenVerifier({
      secrets: candidates,
      // A reload tolerates a named webhook that lost its secrets meanwhile: only the start insists.
      reload: reloadFrom ? async () => [...explicit, ...(await loadVerificationSecrets(reloadFrom, now(), named)).candidates, ...tempCandidates] : undefined,
      keys,
      audience: options.audience,
      toleranceSec: options.toleranceSec,
      now,
    });
    const noted = options.audience.length === 0 ? withAudienceNote(verifier, () => warnAudience?.()) : verifier;
    const relayModule = options.relay ? await import('../../relay/client.js') : undefined;
    const relayClock = relayModule?.createRelayClock();
    // A relayed delivery may have waited at the relay while this laptop slept: its freshness is
    // checked against the time the relay received it, which only our own relay client can vouch for.
    const verify: typeof noted = relayClock
      ? (input) => noted({ ...input, now: relayClock.receivedAt(input.headers, input.rawBody) ?? input.now })
      : noted;

    const sessionOptions: ListenSessionOptions = {
      host: options.host,
      port: options.port,
      path: options.path,
      verify,
      verifying: {
        webhookIds: [...storedIds, ...(temp ? [temp.webhook.id] : [])],
        secrets: explicit.map((c) => `${c.label} ${redactSecret(c.secret)}`),
        jwks: keys.description,
      },
      forward: options.forward,
      routes: options.routes,
      events: options.events,
      extraHeaders: options.extraHeaders,
      forwardTimeoutMs: options.forwardTimeoutMs,
      forwardInsecure: options.forwardInsecure,
      forwardAsReceived: options.forwardAsReceived,
      signingSecrets: verifier.signingSecrets,
      forwardConcurrency: LISTEN_DEFAULTS.forwardConcurrency,
      retry: options.retry,
      journal:
        options.journal === false || journalFile === undefined
          ? undefined
          : {
              file: journalFile,
              maxBytes: options.journal.maxBytes,
              keep: options.journal.keep,
              fsync: options.journal.fsync,
            },
      maxBodyBytes: options.maxBodyBytes,
      headersTimeoutMs: DEFAULT_LIMITS.headersTimeoutMs,
      requestTimeoutMs: DEFAULT_LIMITS.requestTimeoutMs,
      dedupCapacity: LISTEN_DEFAULTS.dedupCapacity,
      resume: LISTEN_DEFAULTS.resume,
      stopGraceMs: LISTEN_DEFAULTS.stopGraceMs,
      journalOwner: { host: options.owner.host, pid: options.owner.pid, isProcessAlive: options.isProcessAlive },
      ...(options.publicUrl ? { beforeReady: async () => ({ publicUrl: options.publicUrl!.href }) } : {}),
      ...(tunnel
        ? {
            intercept: tunnel.intercept,
            beforeReady: async (url: string) => {
              const up = await tunnel!.start(url, (message) => session?.warn(message));
              temp = up.temp;
              const candidate = { secret: up.temp.secret, label: up.temp.webhook.id };
              tempCandidates.push(candidate);
              candidates.push(candidate);
              return { publicUrl: up.publicUrl, webhookIds: [up.temp.webhook.id] };
            },
          }
        : {}),
    };
    const started = await starting(startListenSession(sessionOptions, deps), (late) => late.stop('interrupted while starting'));
    session = started;
    const running = session;
    const warn = (message: string) => running.warn(message);
    // Said once, when the first dynamic delivery is accepted unchecked (a warning event: the live
    // view and NDJSON both show it), not at start: most sessions never see a dynamic delivery.
    if (options.audience.length === 0) warnAudience = () => warn(AUDIENCE_WARNING);

    // The ready file exists before the `ready` record is printed: a script may watch either.
    if (options.readyFile) {
      const publicUrl = tunnel?.publicUrl() ?? options.publicUrl?.href;
      writeReadyFile(options.readyFile, `${running.url}\n${publicUrl ? `${publicUrl}\n` : ''}`);
      readyFileWritten = true;
    }
    // Before the events: a progress line below must not have these lines appended to it.
    if (options.json || !ctx.out.tty) stderr(`listening on ${running.url}`);
    if (temp && options.publicUrl) stderr(`Gemini delivers to ${options.publicUrl.href} → your tunnel → ${running.url}`);
    if (printer) {
      // Resuming many forwards can take a while: a person at the terminal sees how far it got.
      const progress = createProgress(deps.io.stderr, { silent: options.json });
      const resume = showResumeProgress(progress);
      const write = (event: ListenEvent) => {
        progress.hide();
        printer.write(event);
        resume(event);
      };
      // history() and on() in the same tick: no event falls between the two.
      for (const event of running.history()) write(event);
      running.on(write);
    }
    await frontEnd.onListening?.(running);
    if (relayModule && relayClock && options.relay && relayToken !== undefined) {
      relayClient = relayModule.startRelayClient({
        relayUrl: options.relay.url,
        token: relayToken,
        filter: options.relay.filter,
        deliverTo: running.url,
        positionFile: journalFile === undefined ? undefined : relayPositionFile(journalFile, options.relay.url),
        status: (message) => running.warn(message),
        clock: relayClock,
        signal: relayStop.signal,
      });
      if (journalFile === undefined) running.warn('relay: --no-journal keeps the relay position in memory only; a restart starts from the newest delivery');
    }

    const onAbort = () => void running.stop(`signal ${String(deps.signal.reason ?? 'abort')}`);
    deps.signal.addEventListener('abort', onAbort, { once: true });
    if (deps.signal.aborted) onAbort();
    try {
      if (printer === undefined && frontEnd.renderUi) {
        await frontEnd.renderUi(running);
        await running.stop('quit');
      }
      await running.done;
    } finally {
      deps.signal.removeEventListener('abort', onAbort);
    }
  } finally {
    // The relay client first: it must not hand a delivery to a listener that is stopping.
    relayStop.abort();
    await relayClient?.done;
    await session?.stop();
    printer?.flush();
    if (readyFileWritten && options.readyFile) await rm(options.readyFile, { force: true }).catch(() => {});
    if (temp && cleanupApi) {
      try {
        await cleanupApi.delete(temp.webhook.id);
        stderr(`deleted the temporary webhook ${temp.webhook.id}`);
      } catch (error) {
        stderr(
          `warning: could not delete the temporary webhook ${temp.webhook.id} (${error instanceof Error ? error.message : String(error)}); ` +
            `the next \`gemwh listen --public-url\` removes it, or run: gemwh delete ${temp.webhook.id}`,
        );
      }
    }
    // After the webhook is gone: nothing should still be sent to the tunnel's URL.
    await tunnel?.stop();
  }
}

function relayTokenFrom(variable: string, deps: Deps): string {
  const token = deps.env[variable]?.trim();
  if (!token) {
    throw new UsageError(`--relay-token-env ${variable}: the environment variable is not set or empty`, {
      hint: `Export the relay token first (export ${variable}=gwr_…); the relay's admin creates one with \`gemwh relay token create\`.`,
    });
  }
  return token;
}

/** Beside the journal, one per relay channel: the journal and the position move together. */
function relayPositionFile(journalFile: string, relayUrl: URL): string {
  const channel = createHash('sha256').update(`${relayUrl.origin}${relayUrl.pathname}`).digest('hex').slice(0, 12);
  return `${journalFile}.relay-${channel}.position`;
}

function choosePrinter(options: ListenOptions, { deps, out }: CommandContext, frontEnd: ListenFrontEnd): EventPrinter | undefined {
  if (options.json || !out.tty) return createNdjsonPrinter(deps.io.stdout, { quiet: options.quiet });
  if (frontEnd.renderUi) return undefined;
  return createLinePrinter(deps.io.stdout, { quiet: options.quiet });
}

async function keySource(options: ListenOptions, deps: Deps): Promise<KeySource> {
  const jwks = await import('../../jwks/jwks-source.js');
  if (options.jwksFile) return loadJwksFile(options.jwksFile);
  // Fetched on the first JWT that arrives, never at start: a static-only session stays offline.
  return jwks.createRemoteJwksSource({ url: options.jwksUrl, now: () => deps.clock.now(), signal: deps.signal });
}

async function setUpPublicUrl(
  options: ListenOptions & { globals: GlobalOptions },
  deps: Deps,
  stderr: (line: string) => void,
): Promise<{ temp: TempWebhook; cleanupApi: WebhookApi }> {
  const [{ api, cleanupApi }, { createTempWebhook }] = await Promise.all([connectForTempWebhook(options, deps, stderr), import('../../listen/public-url.js')]);
  const temp = await createTempWebhook(api, {
    publicUrl: options.publicUrl!,
    events: options.events,
    owner: options.owner,
    now: deps.clock.now(),
  });
  stderr(`created the temporary webhook ${temp.webhook.id} (${temp.webhook.name}) for ${temp.webhook.uri}; it is deleted when listen stops`);
  return { temp, cleanupApi };
}

/** Written atomically: a script polling for it reads the whole URL or finds no file. */
function writeReadyFile(path: string, content: string): void {
  try {
    writeFileAtomic(path, content, { mode: 0o644 });
  } catch (error) {
    throw new UsageError(`cannot write --ready-file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: `Check that ${dirname(path)} exists and is writable.`,
    });
  }
}
