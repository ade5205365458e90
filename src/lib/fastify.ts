import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_MAX_BODY_BYTES, HANDLER_FAILED, settle, type AdapterOptions, type Receiver } from './answer.js';
import type { WebhookEvent } from './events.js';
import type { VerifiedDelivery } from './verifier.js';

/**
 * A Fastify plugin that owns the webhook route. Fastify parses JSON before any route code runs;
 * inside this plugin's encapsulated context every body is kept as a Buffer instead, so the rest of
 * the app keeps its JSON parsing.
 */

export interface FastifyWebhookOptions extends AdapterOptions {
  receiver: Receiver;
  /** Default `/webhook`. */
  path?: string;
  /** Runs for each verified delivery with a bare verifier; with a Webhooks dispatcher, use webhooks.on(). */
  onEvent?: (event: WebhookEvent, delivery: VerifiedDelivery, request: FastifyRequest) => unknown;
}

/** `app.register(gemwhFastify, { receiver: webhooks, path: '/webhook' })` */
export async function gemwhFastify(instance: FastifyInstance, options: FastifyWebhookOptions): Promise<void> {
  const { receiver } = options;
  if (!receiver || typeof receiver.verify !== 'function') throw new TypeError('gemwh fastify plugin: pass { receiver: createWebhooks(…) or createVerifier(…) }');
  const bodyLimit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  instance.removeAllContentTypeParsers();
  // '*' also takes requests without a content-type: what matters is the signature, not the label.
  instance.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
  instance.post(options.path ?? '/webhook', { bodyLimit }, async (request: FastifyRequest, reply: FastifyReply) => {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : request.body === undefined || request.body === null ? Buffer.alloc(0) : (request.body as Uint8Array);
    const answer = await settle(receiver, { headers: request.headers, rawBody }, options);
    if (answer.outcome.status === 'handled' && options.onEvent && !('receive' in receiver)) {
      try {
        await options.onEvent(answer.outcome.delivery.event, answer.outcome.delivery, request);
      } catch (error) {
        request.log.error({ err: error }, 'gemwh: webhook handler failed');
        return reply.code(500).send(HANDLER_FAILED);
      }
    }
    return reply.code(answer.status).header('cache-control', 'no-store').send(answer.body);
  });
}
