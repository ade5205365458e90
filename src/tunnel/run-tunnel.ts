import type { WebhookApi } from '../api/types.js';
import type { Deps } from '../deps.js';
import { InterruptedError } from '../errors.js';
import { connectForTempWebhook, type TempWebhookConnectOptions } from '../listen/temp-webhook-api.js';
import { createTempWebhook, type TempWebhook } from '../listen/public-url.js';
import { stopLeftoverTunnels, tunnelPidFile } from './leftovers.js';
import { createTunnelProbe } from './probe.js';
import { startTunnel, type Tunnel, type TunnelStatus } from './supervisor.js';
import { planLaunch, type TunnelSettings } from './tools.js';

export type { TunnelSettings } from './tools.js';

export interface PreparedTunnel {
  /** The listener answers the tunnel's reachability probe with this. */
  intercept: ReturnType<typeof createTunnelProbe>['intercept'];
  cleanupApi: WebhookApi;
  /**
   * Starts the tool towards the listener at `localUrl`, waits until its URL reaches the listener,
   * then creates the temporary webhook for that URL. `warn` puts a message into the session's stream.
   */
  start(localUrl: string, warn: (message: string) => void): Promise<{ publicUrl: string; temp: TempWebhook }>;
  /** The URL deliveries go to now (it changes when the tool restarts with another one). */
  publicUrl(): string | undefined;
  stop(): Promise<void>;
}

/**
 * Everything that can fail before the port opens is checked here: the tool is installed, the API
 * key is there; leftovers of a gemwh killed earlier (its tunnel, its webhook) are removed.
 */
export async function prepareTunnel(
  settings: TunnelSettings,
  options: TempWebhookConnectOptions & { host: string; port: number; path?: string; events: string[] },
  deps: Deps,
  stderr: (line: string) => void,
): Promise<PreparedTunnel> {
  planLaunch(settings.choice, { host: options.host, port: options.port }, deps.env);
  const { api, cleanupApi } = await connectForTempWebhook(options, deps, stderr);
  for (const leftover of stopLeftoverTunnels(deps.paths.state, options.owner, options.isProcessAlive)) {
    stderr(`stopped ${leftover.file} (pid ${leftover.pid}), a tunnel left running by an earlier listen`);
  }
  const probe = createTunnelProbe(deps.random.bytes(32));
  let tunnel: Tunnel | undefined;
  let temp: TempWebhook | undefined;
  let starting: Promise<unknown> | undefined;
  const interrupted = () => new InterruptedError('stopped while the tunnel was starting', { hint: 'Nothing is listening; run the command again to start it.' });
  return {
    intercept: probe.intercept,
    cleanupApi,
    publicUrl: () => tunnel?.url,
    start(localUrl, warn) {
      const work = startOnce(localUrl, warn);
      starting = work.catch(() => {});
      return work;
    },
    async stop() {
      // Ctrl-C during the start: let it wind down first (it stops at the abort), then stop the tool.
      await starting;
      await tunnel?.stop();
    },
  };

  async function startOnce(localUrl: string, warn: (message: string) => void): Promise<{ publicUrl: string; temp: TempWebhook }> {
    const local = new URL(localUrl);
    const launch = planLaunch(settings.choice, { host: local.hostname.replace(/^\[|\]$/g, ''), port: Number(local.port) }, deps.env);
    const say = (message: string) => {
      stderr(message);
      warn(message);
    };
    stderr(`starting ${launch.name} towards ${localUrl}…`);
    tunnel = await startTunnel({
      launch,
      env: deps.env,
      probe,
      path: options.path ?? '/',
      signal: deps.signal,
      urlTimeoutMs: settings.urlTimeoutMs,
      reachTimeoutMs: settings.reachTimeoutMs,
      checkIntervalMs: settings.checkIntervalMs,
      backoff: settings.backoff,
      pidFile: tunnelPidFile(deps.paths.state, options.owner),
      ownerPid: options.owner.pid,
      onStatus: (status) => say(describeStatus(status, launch.name)),
      onUrlChange: async (url) => {
        if (!temp) return;
        try {
          await api.update(temp.webhook.id, { uri: url });
          say(`the tunnel's URL changed: the temporary webhook ${temp.webhook.id} now delivers to ${url}`);
        } catch (error) {
          say(`the tunnel's URL changed to ${url}, but updating the temporary webhook ${temp.webhook.id} failed (${(error as Error).message}); deliveries will not arrive. Restart listen.`);
          throw error;
        }
      },
    });
    if (deps.signal.aborted) throw interrupted();
    const publicUrl = tunnel.url;
    stderr(`${launch.name} is up: ${publicUrl} reaches this listener`);
    const created = await createTempWebhook(api, { publicUrl: new URL(publicUrl), events: options.events, owner: options.owner, now: deps.clock.now() });
    if (deps.signal.aborted) {
      // listen's clean-up already ran without knowing this webhook: delete it here.
      await cleanupApi.delete(created.webhook.id).catch(() => {});
      throw interrupted();
    }
    temp = created;
    stderr(`created the temporary webhook ${temp.webhook.id} (${temp.webhook.name}) for ${publicUrl}; it is deleted when listen stops`);
    stderr(`for a dynamic webhook (a batch job's own), put this in the job: "webhook_config": {"uris": ["${publicUrl}"]}; its deliveries verify against Google's JWKS`);
    return { publicUrl, temp };
  }
}

function describeStatus(status: TunnelStatus, name: string): string {
  if (status.kind === 'down') {
    return `tunnel down: ${status.reason}; restarting ${name} in ${status.retryInMs < 1000 ? `${status.retryInMs}ms` : `${Math.round(status.retryInMs / 1000)}s`}`;
  }
  return status.url === status.previousUrl ? `tunnel back up at ${status.url}` : `tunnel back up at a new URL: ${status.url} (was ${status.previousUrl})`;
}
