import { DEFAULT_MAX_BODY_BYTES, HANDLER_FAILED, settle, tooLarge, type AdapterOptions, type Answer, type Receiver } from './answer.js';
import type { WebhookEvent } from './events.js';
import type { VerifiedDelivery } from './verifier.js';

/**
 * The Fetch API `Request` → `Response`: Hono (`c.req.raw`), Next.js route handlers, Cloudflare
 * Workers, Deno, Bun. Uses only globals of the Fetch API, so it runs wherever they exist.
 */

export interface FetchHandlerOptions extends AdapterOptions {
  /** Runs for each verified delivery with a bare verifier; with a Webhooks dispatcher, use webhooks.on(). */
  onEvent?: (event: WebhookEvent, delivery: VerifiedDelivery, request: Request) => unknown;
  /** Where a failing handler's error goes (default: console.error); the answer is 500 so Gemini retries. */
  onError?: (error: unknown) => void;
}

/** `(request) => Response`: 200 once verified and handled, 400/401/413 with the reason, 500 when a handler threw. */
export function createFetchHandler(receiver: Receiver, options: FetchHandlerOptions = {}): (request: Request) => Promise<Response> {
  return async (request) => {
    try {
      const answer = await verifyFetchRequest(receiver, request, options);
      if (answer.outcome.status === 'handled' && options.onEvent && !('receive' in receiver)) {
        await options.onEvent(answer.outcome.delivery.event, answer.outcome.delivery, request);
      }
      return toResponse(answer.status, answer.body);
    } catch (error) {
      (options.onError ?? ((e: unknown) => console.error('gemwh: webhook handler failed:', e)))(error);
      return toResponse(500, HANDLER_FAILED);
    }
  };
}

/** Reads the body (within the limit) and verifies; with a Webhooks dispatcher its handlers run too. */
export async function verifyFetchRequest(receiver: Receiver, request: Request, options: AdapterOptions = {}): Promise<Answer> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (request.bodyUsed) {
    // request.json() or a framework's body parsing got there first: the bytes are gone.
    return settle(receiver, { headers: request.headers, rawBody: {} as Uint8Array }, options);
  }
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBodyBytes) return tooLarge(maxBodyBytes, options);
  const body = await readLimited(request, maxBodyBytes);
  if (body === undefined) return tooLarge(maxBodyBytes, options);
  return settle(receiver, { headers: request.headers, rawBody: body }, options);
}

async function readLimited(request: Request, max: number): Promise<Uint8Array | undefined> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function toResponse(status: number, body: Record<string, unknown>): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });
}
