import type { AddressInfo } from 'node:net';
import type { Deps } from '../deps.js';
import { NotFoundError, UsageError } from '../errors.js';
import { SeenIds } from './dedup.js';
import { DeliveryCache } from './delivery-cache.js';
import { EventBus } from './event-bus.js';
import { Forwarding, noForwardTarget, unreachedTargets } from './forwarding.js';
import { formatHost, listenError, waitAtMost } from './receiver.js';
import { createRequestFlow } from './request-flow.js';
import { createCachedRouter, createRouter, describeTargets, hasTargets } from './routing.js';
import { openSessionJournal } from './session-journal.js';
import { LISTEN_DEFAULTS, type ListenSessionOptions } from './session-options.js';
import type { ListenSession } from './session-types.js';

/**
 * A listen session builds the stages and owns the lifecycle: the journal opened (and what an
 * earlier run left pending resumed), the forward stage, the port, `ready`, stop. What happens to
 * one request, from node:http to its answer, is request-flow.ts; events go out on the bus.
 */

export async function startListenSession(options: ListenSessionOptions, deps: Pick<Deps, 'clock' | 'random' | 'scheduler'>): Promise<ListenSession> {
  const now = () => deps.clock.now();
  const sessionId = `${now().toString(36)}-${deps.random.bytes(3).toString('hex')}`;
  const bus = new EventBus();
  const warn = (message: string) => bus.emit({ type: 'warning', at: now(), message });
  const deliveries = new DeliveryCache();
  const seen = new SeenIds(options.dedupCapacity);
  const route = createRouter(options);
  const routeNew = createCachedRouter(route);
  let seq = 0;
  let stopping: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));

  const journal = await openSessionJournal(options, { now, seen, warn });
  const forwarding = hasTargets(options)
    ? await Forwarding.start(
        {
          route,
          extraHeaders: options.extraHeaders,
          timeoutMs: options.forwardTimeoutMs,
          insecure: options.forwardInsecure,
          concurrency: options.forwardConcurrency,
          retry: options.retry,
          backlogBytes: options.forwardBacklogBytes ?? LISTEN_DEFAULTS.forwardBacklogBytes,
          journal: options.journal,
          signing: { signingSecrets: options.signingSecrets, forwardAsReceived: options.forwardAsReceived },
        },
        {
          now,
          scheduler: deps.scheduler,
          deliveries,
          emit: (event) => bus.emit(event),
          warn,
          journal: journal.appendQuietly,
          nextSeq: () => ++seq,
          stopping: () => stopping !== undefined,
        },
      ).catch(async (error: unknown) => {
        await journal.close();
        throw error;
      })
    : undefined;

  const { server, idle } = createRequestFlow({ options, sessionId, now, nextSeq: () => ++seq, bus, warn, seen, deliveries, routeNew, journal, forwarding });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, options));
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await forwarding?.close();
    await journal.close();
    throw error;
  });
  server.on('error', (error) => warn(`server error: ${error.message}`));

  const address = server.address() as AddressInfo;
  const url = `http://${formatHost(address.address)}:${address.port}${options.path ?? '/'}`;

  async function stop(reason = 'stopped'): Promise<void> {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await waitAtMost(idle(), options.stopGraceMs);
      server.closeAllConnections();
      await closed;
      await forwarding?.stop(Math.min(2000, options.stopGraceMs));
      await journal.close();
      bus.emit({ type: 'stopped', at: now(), reason });
      bus.close();
      resolveDone();
    })();
    return stopping;
  }

  const session: ListenSession = {
    url,
    done,
    on: (listener) => bus.on(listener),
    history: () => bus.history(),
    warn,
    getDelivery: (wanted, options) => deliveries.details(wanted, options),
    async resend(wanted) {
      const state = deliveries.get(wanted);
      if (!state) throw new NotFoundError(`no delivery #${wanted} in this session`, { hint: 'Only recent deliveries are kept in memory; use `gemwh replay delivery` for older ones.' });
      if (!state.forwardable) throw new UsageError(`delivery #${wanted} was rejected, so it is not forwarded`);
      if (!forwarding) throw noForwardTarget();
      forwarding.resend(state);
    },
    stop,
  };

  let extras: Awaited<ReturnType<NonNullable<ListenSessionOptions['beforeReady']>>> = {};
  if (options.beforeReady) {
    try {
      extras = await options.beforeReady(url);
    } catch (error) {
      await stop('start-up failed');
      throw error;
    }
  }
  bus.emit({
    type: 'ready',
    at: now(),
    url,
    ...(extras.publicUrl ? { publicUrl: extras.publicUrl } : {}),
    forwardTargets: describeTargets(options),
    verifying: extras.webhookIds ? { ...options.verifying, webhookIds: [...options.verifying.webhookIds, ...extras.webhookIds] } : options.verifying,
    journal: options.journal?.file,
  });
  const resumable = journal.takeResumable();
  if (forwarding) forwarding.resume(resumable);
  else if (resumable.length > 0) warn(unreachedTargets(resumable.flatMap((pending) => [...pending.targets.keys()])));
  return session;
}
