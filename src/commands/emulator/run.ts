import { DEFAULT_JOB_DELAY_MS } from '../../emulator/jobs/job-manager.js';
import { startEmulator, EMULATOR_API_VERSIONS, type RunningEmulator, type StartEmulatorOptions } from '../../emulator/server.js';
import type { CommandContext } from '../context.js';

export interface EmulatorCommandOptions {
  host: string;
  port: number;
  stateFile?: string;
  apiKey?: string;
  json: boolean;
  /** No per-request log lines on stderr. */
  quiet: boolean;
  /** --job-delay and --fail-rate. */
  jobs?: { delayMs: number; failRate: number };
}

function formatJobDelay(ms: number | undefined): string {
  const value = ms ?? DEFAULT_JOB_DELAY_MS;
  return value % 1000 === 0 ? `${value / 1000} s` : `${value} ms`;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * `gemwh emulator`: serve until deps.signal aborts (Ctrl-C, SIGTERM), then stop cleanly. The base
 * URL is the only thing on stdout, so `URL=$(gemwh emulator &)`-style scripts and --json readers get
 * exactly one line; everything for people goes to stderr.
 */
export async function runEmulator(
  options: EmulatorCommandOptions,
  ctx: CommandContext,
  extra: Partial<StartEmulatorOptions> = {},
): Promise<void> {
  const { deps } = ctx;
  const err = deps.io.stderr;
  const emulator: RunningEmulator = await startEmulator({
    host: options.host,
    port: options.port,
    apiKey: options.apiKey,
    stateFile: options.stateFile,
    clock: deps.clock,
    random: deps.random,
    onRequest: options.quiet
      ? undefined
      : (entry) => err.write(`${entry.method} ${entry.path} -> ${entry.status} (${Math.round(entry.durationMs)} ms)\n`),
    onInternalError: (error) => err.write(`gemwh emulator: internal error: ${error instanceof Error ? error.message : String(error)}\n`),
    jobs: {
      ...options.jobs,
      onEmitError: (job, error) =>
        err.write(`gemwh emulator: ${job.name} ended but its event was not sent: ${error instanceof Error ? error.message : String(error)}\n`),
    },
    ...extra,
  });

  deps.io.stdout.write(options.json ? `${JSON.stringify({ url: emulator.url })}\n` : `${emulator.url}\n`);
  err.write(
    [
      `Emulating the Gemini WebhookService at ${emulator.url} (paths /${EMULATOR_API_VERSIONS.join('/, /')}/webhooks...)`,
      `  Point gemwh at it:  export GEMWH_API_ROOT=${emulator.url}   (or --api-root ${emulator.url})`,
      `  API key:            ${options.apiKey ? `exactly ${options.apiKey} (the --api-key given): pass it with --api-key or GEMINI_API_KEY` : 'any non-empty key; gemwh sends one by itself to a local API root'}`,
      `  State:              ${options.stateFile ? `saved to ${options.stateFile}` : 'in memory only (use --state FILE to keep it)'}`,
      `  Your app's SDK:     new GoogleGenAI({ apiKey: 'any', httpOptions: { baseUrl: '${emulator.url}' } }): background interactions,`,
      `                      batches and generateVideos end after ${formatJobDelay(options.jobs?.delayMs)} and send their webhooks`,
      `  Send events:        gemwh trigger batch.succeeded (list attempts: gemwh emulator deliveries); JWKS at ${emulator.url}/.well-known/jwks.json`,
      '  Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  if (!LOOPBACK_HOSTS.has(options.host)) {
    err.write(
      `gemwh emulator: warning: listening on ${options.host}, reachable from other machines; ` +
        `${options.apiKey ? 'requests need the --api-key you gave' : 'any API key is accepted (set --api-key)'}.\n`,
    );
  }

  await new Promise<void>((resolve) => {
    if (deps.signal.aborted) return resolve();
    deps.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await emulator.stop();
  err.write(`Emulator stopped${options.stateFile ? `; state kept in ${options.stateFile}` : ''}.\n`);
}
