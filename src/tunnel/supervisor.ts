import { GemwhError, InterruptedError, NetworkError, UsageError } from '../errors.js';
import { startChild, type TunnelChild } from './child.js';
import { removeTunnelPidFile, writeTunnelPidFile } from './leftovers.js';
import { publicUrlFromNgrokApi } from './parse.js';
import type { TunnelProbe } from './probe.js';
import type { TunnelLaunch } from './tools.js';

/**
 * Runs a tunnel tool for the whole listen: starts it, learns its public URL, waits until that URL
 * reaches the listener, then watches it. When the tool exits or the URL stops answering it says so
 * at once, restarts the tool with backoff and, if the URL changed, lets the caller follow it.
 */

export type TunnelStatus =
  | { kind: 'down'; reason: string; retryInMs: number }
  | { kind: 'up'; url: string; previousUrl: string };

export interface TunnelOptions {
  launch: TunnelLaunch;
  env: Readonly<Record<string, string | undefined>>;
  probe: TunnelProbe;
  /** The listener's path (deliveries go to the tunnel's origin + this path). */
  path: string;
  signal: AbortSignal;
  /** Time allowed for the tool to print its URL. */
  urlTimeoutMs: number;
  /** Time allowed for the URL to reach the listener once known (new quick-tunnel hostnames take a while to resolve). */
  reachTimeoutMs: number;
  /** How often the running tunnel is probed. */
  checkIntervalMs: number;
  backoff: { initialMs: number; maxMs: number };
  /** Where this tunnel's pid is kept for the next start to clean up after a SIGKILL. */
  pidFile?: string;
  ownerPid: number;
  /** A URL that has changed: point the webhook there. Its failure is reported, the tunnel keeps running. */
  onUrlChange(url: string, previous: string): Promise<void>;
  onStatus(status: TunnelStatus): void;
}

export interface Tunnel {
  /** Where deliveries go now: the tunnel's public origin and the listener's path. */
  readonly url: string;
  /** Stops watching and stops the tool (its whole process group). Idempotent. */
  stop(): Promise<void>;
}

/** Consecutive failed probes before a running tunnel counts as down (one can be a blip). */
const FAILED_CHECKS_FOR_DOWN = 2;
/** A tunnel up this long starts the next restart from the initial backoff again. */
const STABLE_MS = 60_000;

export async function startTunnel(options: TunnelOptions): Promise<Tunnel> {
  let run = await launchOnce(options);
  let url = run.url;
  let stopped = false;
  let wake: (() => void) | undefined;
  const stopWaiting = new AbortController();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
      if (stopWaiting.signal.aborted) wake();
    });

  const watch = async () => {
    let delay = options.backoff.initialMs;
    while (!stopped) {
      const upSince = Date.now();
      let reason = await watchRun(run);
      if (stopped) return;
      await run.child.stop();
      if (Date.now() - upSince > STABLE_MS) delay = options.backoff.initialMs;
      // Restart until it is back or listen stops; each failure waits longer.
      for (;;) {
        options.onStatus({ kind: 'down', reason, retryInMs: delay });
        await sleep(delay);
        if (stopped) return;
        delay = Math.min(delay * 2, options.backoff.maxMs);
        try {
          run = await launchOnce({ ...options, signal: stopWaiting.signal });
          break;
        } catch (error) {
          if (stopped) return;
          reason = `restarting ${options.launch.name} failed: ${error instanceof GemwhError ? error.message : String(error)}`;
        }
      }
      const previous = url;
      url = run.url;
      if (url !== previous) {
        // onUrlChange reports its own failure; the tunnel stays up for the next change.
        await options.onUrlChange(url, previous).catch(() => {});
      }
      options.onStatus({ kind: 'up', url, previousUrl: previous });
    }
  };

  /** Resolves with why the run ended: the tool exited, or its URL stopped answering. */
  const watchRun = async (current: Run): Promise<string> => {
    let failed = 0;
    let exitReason: string | undefined;
    void current.child.exited.then((how) => {
      exitReason = `${options.launch.name} ${how}`;
      wake?.();
    });
    while (!stopped && exitReason === undefined) {
      await sleep(options.checkIntervalMs);
      if (stopped || exitReason !== undefined) break;
      const result = await options.probe.check(current.url);
      if (exitReason !== undefined) break;
      failed = result.ok ? 0 : failed + 1;
      if (!result.ok && failed >= FAILED_CHECKS_FOR_DOWN) return `${current.url} stopped answering (${result.reason})`;
    }
    return exitReason ?? 'stopped';
  };

  const watching = watch();
  return {
    get url() {
      return url;
    },
    async stop() {
      stopped = true;
      stopWaiting.abort();
      wake?.();
      await run.child.stop();
      await watching.catch(() => {});
      await run.child.stop();
      if (options.pidFile) removeTunnelPidFile(options.pidFile);
    },
  };
}

interface Run {
  child: TunnelChild;
  url: string;
}

/** Starts the tool once and resolves when its URL reaches the listener; stops the tool on any failure. */
async function launchOnce(options: TunnelOptions): Promise<Run> {
  const { launch } = options;
  let child: TunnelChild;
  try {
    child = await startChild(launch.file, launch.args, options.env);
  } catch (error) {
    throw new UsageError(`cannot start ${launch.name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: `Check that ${launch.file} runs on its own.`,
    });
  }
  if (options.pidFile) writeTunnelPidFile(options.pidFile, { owner: options.ownerPid, child: child.pid, file: launch.processName });
  try {
    const origin = await waitForUrl(child, options);
    const url = new URL(options.path.replace(/^\/*/, ''), origin.endsWith('/') ? origin : `${origin}/`).href;
    await waitUntilReachable(child, url, options);
    return { child, url };
  } catch (error) {
    await child.stop();
    if (options.pidFile) removeTunnelPidFile(options.pidFile);
    throw error;
  }
}

function waitForUrl(child: TunnelChild, options: TunnelOptions): Promise<string> {
  const { launch } = options;
  const reader = launch.reader();
  return new Promise<string>((resolve, reject) => {
    let settled = false;
    let apiPoll: NodeJS.Timeout | undefined;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(apiPoll);
      options.signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const output = () => (child.tail().length > 0 ? `\nIts last output:\n  ${child.tail().join('\n  ')}` : '');
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new NetworkError(`${launch.name} printed no public URL within ${Math.round(options.urlTimeoutMs / 1000)}s`, {
              hint: `Tried ${launch.tried}.${output()}\nCheck that it works on its own (and that this machine reaches the internet).`,
            }),
          ),
        ),
      options.urlTimeoutMs,
    );
    const onAbort = () => finish(() => reject(new InterruptedError('stopped while the tunnel was starting', { hint: 'Nothing is listening; run the command again to start it.' })));
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    child.onLine((line) => {
      const finding = reader(line);
      if (finding.kind === 'url') finish(() => resolve(finding.url));
      else if (finding.kind === 'fatal') finish(() => reject(new UsageError(finding.message, { hint: finding.hint })));
      else if (finding.kind === 'api' && apiPoll === undefined) {
        // ngrok's log line is the quickest source; its local API is the documented one: ask both.
        const api = `http://${finding.address.replace(/^https?:\/\//, '')}/api/tunnels`;
        apiPoll = setInterval(() => {
          void fetch(api, { signal: AbortSignal.timeout(2000) })
            .then((response) => (response.ok ? response.json() : undefined))
            .then((body) => {
              const url = publicUrlFromNgrokApi(body);
              if (url) finish(() => resolve(url));
            })
            .catch(() => {});
        }, 250);
      }
    });
    void child.exited.then((how) =>
      finish(() =>
        reject(
          new NetworkError(`${launch.name} ${how} before printing a public URL`, {
            hint: `Tried ${launch.tried}.${output()}`,
          }),
        ),
      ),
    );
  });
}

async function waitUntilReachable(child: TunnelChild, url: string, options: TunnelOptions): Promise<void> {
  const started = Date.now();
  let exited: string | undefined;
  void child.exited.then((how) => (exited = how));
  let attempts = 0;
  let last = '';
  while (Date.now() - started < options.reachTimeoutMs) {
    if (options.signal.aborted) throw new InterruptedError('stopped while the tunnel was starting', { hint: 'Nothing is listening; run the command again to start it.' });
    if (exited) throw new NetworkError(`${options.launch.name} ${exited} before ${url} reached the listener`, { hint: `Tried ${options.launch.tried}.` });
    attempts += 1;
    const result = await options.probe.check(url, Math.min(5000, options.reachTimeoutMs));
    if (result.ok) return;
    last = result.reason;
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 100 * attempts)));
  }
  throw new NetworkError(`the tunnel never became reachable: ${url} did not reach the listener within ${Math.round(options.reachTimeoutMs / 1000)}s`, {
    hint: `Tried ${options.launch.tried}, then ${attempts} request(s) to ${url}; the last one: ${last}.\nCheck your network or firewall, or try the other tool (--tunnel cloudflared / --tunnel ngrok).`,
  });
}
