import { EMULATOR_DEFAULT_HOST, EMULATOR_DEFAULT_PORT } from '../../api/api-root.js';
import { API_EVENT_TYPES } from '../../core/events.js';
import { invocation } from '../../core/invocation.js';
import { redactSecret } from '../../core/redact.js';
import { loadOrCreateDevSecret, type DevSecret } from '../../devkey/dev-secret.js';
import { UsageError } from '../../errors.js';
import type { ListenFrontEnd, ListenOptions, ListenTrigger } from './run.js';
import type { ListenSession } from '../../listen/session-types.js';
import type { CommandContext } from '../context.js';

/** The JWT aud of the demo emulator's dynamic deliveries when no --audience is given. */
export const LISTEN_EMULATOR_AUDIENCE = 'gemwh-listen-emulator';

export interface ListenEmulatorOptions {
  /** --demo: send one event of every catalog type as soon as the listener is up. */
  demo: boolean;
}

/** What `listen --emulator` set up, for whoever wants to look (tests, a future status line). */
export interface ListenEmulatorInfo {
  /** Base URL of the in-process emulator: a value for GEMWH_API_ROOT or the SDK's httpOptions.baseUrl. */
  emulatorUrl: string;
  /** The webhook pointing at the listener, subscribed to every event type. */
  webhookId: string;
  /** Where the listener receives. */
  listenUrl: string;
}

// Replaced by the listener's URL before anything can be delivered; port 9 is "discard".
const PLACEHOLDER_URI = 'http://127.0.0.1:9/';

/**
 * `gemwh listen --emulator`: the one-command demo. Starts the emulator in this process, registers
 * a webhook on it for the listener (every event type; its secret stays in memory, so neither an
 * API key nor the keychain is needed), and runs the ordinary `listen` on top, with the UI's `t`
 * key wired to the emulator. Everything stops together on Ctrl-C, `q` or deps.signal.
 */
export async function runListenWithEmulator(
  options: ListenOptions,
  demo: ListenEmulatorOptions,
  ctx: CommandContext,
  frontEnd: ListenFrontEnd = {},
  onReady?: (info: ListenEmulatorInfo) => void,
): Promise<void> {
  const { deps } = ctx;
  if (options.publicUrl) {
    throw new UsageError('--emulator and --public-url are alternatives', {
      hint: '--emulator sends the events itself; --public-url registers a webhook on the real API for a tunnel.',
    });
  }
  if (options.webhookIds.length > 0) {
    throw new UsageError('--webhook cannot be combined with --emulator', { hint: '--emulator makes its own webhook and keeps its secret in memory.' });
  }

  const [{ startEmulator }, { createMemoryStore }, { freshSecret }, { secretsFromFlags }, { runListen }] = await Promise.all([
    import('../../emulator/server.js'),
    import('../../secrets/memory-store.js'),
    import('../../secrets/current-secrets.js'),
    import('../../secrets/secret-flags.js'),
    import('./run.js'),
  ]);
  // --secret / --secret-env: the demo webhook signs with these, so an app behind --forward that
  // knows its own secret can verify what it gets. Checked before anything starts.
  const userSecrets = secretsFromFlags({ secrets: options.secrets, secretEnv: options.secretEnv }, deps.env);
  // Without them, the machine's development secret: the same on every run, so an app configured
  // once with it verifies every demo.
  const devSecret = userSecrets.length === 0 ? await loadOrCreateDevSecret(deps.paths, deps.random.bytes) : undefined;
  // The usual emulator port when it is free, so an app configured for `gemwh emulator` works
  // unchanged; any free port otherwise (the banner prints it).
  // The emulator signs dynamic deliveries for a known audience (the first --audience, else its
  // own name), so this listener checks the aud of every token it gets instead of warning.
  const audience = options.audience.length > 0 ? options.audience : [LISTEN_EMULATOR_AUDIENCE];
  const start = (port: number) =>
    startEmulator({ host: EMULATOR_DEFAULT_HOST, port, clock: deps.clock, random: deps.random, delivery: { jwtAudience: audience[0] } });
  const emulator = await start(EMULATOR_DEFAULT_PORT).catch((error: unknown) => {
    if (error instanceof UsageError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE') return start(0);
    throw error;
  });
  try {
    const webhook = emulator.store.create(
      { name: 'gemwh listen --emulator', uri: PLACEHOLDER_URI, subscribed_events: [...API_EVENT_TYPES] },
      { signingSecrets: devSecret ? [devSecret.secret] : userSecrets.map((c) => c.secret) },
    );
    const signing = emulator.store.activeSecrets(webhook.id).map((s) => freshSecret(s.secret, deps.clock.now()));
    const secretStore = createMemoryStore({ webhooks: { [webhook.id]: signing } });
    // Without a UI there is no `t` key: say how else to send an event.
    const hasUi = frontEnd.renderUi !== undefined && !options.json && ctx.out.tty;
    const trigger: ListenTrigger = {
      eventTypes: API_EVENT_TYPES,
      trigger: async (type) => {
        emulator.deliveries.emit({ type, webhookIds: [webhook.id] });
      },
    };
    const stderr = (line: string) => deps.io.stderr.write(`gemwh: ${line}\n`);

    await runListen(
      {
        ...options,
        emulatorJournal: true,
        webhookIds: [webhook.id],
        // The webhook's secrets are the user's: verdicts name the webhook, not the flags.
        secrets: [],
        secretEnv: [],
        secretStore,
        audience,
        // Dynamic deliveries (jobs with webhook_config.uris pointing here) are signed by the
        // emulator's keys, not Google's.
        jwksUrl: options.jwksFile ? undefined : (options.jwksUrl ?? `${emulator.url}/.well-known/jwks.json`),
      },
      ctx,
      {
        renderUi: frontEnd.renderUi && ((session, extras) => frontEnd.renderUi!(session, { ...extras, trigger })),
        onListening: async (session: ListenSession) => {
          emulator.store.update(webhook.id, { uri: session.url }, ['uri']);
          const signedWith = userSecrets.map((c) => `${c.label} (${redactSecret(c.secret)})`);
          const facts = { emulatorUrl: emulator.url, webhookId: webhook.id, listenUrl: session.url, demo: demo.demo, hasUi, signedWith, devSecret, gemwh: invocation(deps.env) };
          for (const line of banner(facts)) stderr(line);
          onReady?.({ emulatorUrl: emulator.url, webhookId: webhook.id, listenUrl: session.url });
          await frontEnd.onListening?.(session);
          if (demo.demo) for (const type of API_EVENT_TYPES) await trigger.trigger(type);
        },
      },
    );
  } finally {
    await emulator.stop();
  }
}

interface BannerFacts {
  emulatorUrl: string;
  webhookId: string;
  listenUrl: string;
  demo: boolean;
  /** The terminal UI runs (its `t` key sends events). */
  hasUi: boolean;
  /** The --secret / --secret-env the webhook signs with (redacted); empty: the development secret. */
  signedWith: string[];
  devSecret?: DevSecret;
  /** How to run gemwh again: `gemwh`, or `npx gemwh` when npx started it. */
  gemwh: string;
}

function banner(facts: BannerFacts): string[] {
  const { emulatorUrl, webhookId, listenUrl, demo, hasUi, signedWith, devSecret, gemwh } = facts;
  const send = hasUi
    ? demo
      ? 'sending one event of each type (--demo); press t in the terminal UI to send more'
      : 'press t in the terminal UI to send an event (or start with --demo)'
    : `${demo ? 'sending one event of each type (--demo); send more' : 'send an event'} with: ` +
      `${gemwh} trigger TYPE --api-root ${emulatorUrl} (TYPE: ${gemwh} events lists them)`;
  return [
    `emulator running at ${emulatorUrl}; webhook ${webhookId} delivers all ${API_EVENT_TYPES.length} event types to ${listenUrl}`,
    devSecret
      ? `your webhook signing secret is ${devSecret.secret} (${devSecret.created ? 'created now and ' : ''}kept in ${devSecret.file}, the same on every run): ` +
        'give it to your app once, e.g. GEMINI_WEBHOOK_SECRET; --secret-env VAR signs with yours instead'
      : `the webhook signs with ${signedWith.join(' and ')}: an app behind --forward can verify each delivery with ${signedWith.length > 1 ? 'either' : 'it'}`,
    send,
    `point your app at the emulator: new GoogleGenAI({ apiKey: 'any', httpOptions: { baseUrl: '${emulatorUrl}' } })`,
    `  its background interactions, batches and generateVideos calls then end with a webhook to this listener`,
    `point gemwh at it (no API key needed): GEMWH_API_ROOT=${emulatorUrl} ${gemwh} list`,
  ];
}
