import { eventTypeInfo } from '../core/events.js';
import type { CaseContext, ConformanceMode, Delivery, DynamicKit } from './context.js';
import { toRequest, validRequest } from './context.js';
import { formatMs, type Exchange, type OutgoingRequest } from './send.js';

/**
 * The battery, as data. The command, the tests, `--only`, the JSON output and the Markdown
 * report all read this one list; the engine (engine.ts) sends what `build` returns and scores
 * what `judge` says. Ids are stable: users put them in `--only` and CI scripts.
 */

export type CaseGroup = 'must-accept' | 'must-reject' | 'should';
export type Outcome = 'pass' | 'fail' | 'warn';

export interface Judgement {
  outcome: Outcome;
  /** What the receiver did, in a few words: `200`, `401`, `connection closed`, `max 2.4 s`. */
  got: string;
  /** One sentence for a failure or warning: what went wrong and what to change. */
  detail?: string;
}

export interface JudgeContext {
  /** Latencies (ms) of every answered valid delivery sent so far, this case's included. */
  validLatencies: readonly number[];
  /** Valid deliveries so far that got no answer in time. */
  validTimeouts: number;
  slowWarnMs: number;
  slowFailMs: number;
}

export interface ConformanceCase {
  id: string;
  group: CaseGroup;
  modes: readonly ConformanceMode[];
  /** What a conforming receiver does, in the table's EXPECTED column. */
  expected: string;
  /** One line: what a receiver that fails this case lets happen. */
  risk: string;
  build(ctx: CaseContext): Promise<OutgoingRequest[]>;
  judge(exchanges: readonly Exchange[], ctx: JudgeContext): Judgement;
  /**
   * Send a valid delivery afterwards and fail the case if it is not accepted: proves the
   * receiver survived the request. Always done for must-reject cases.
   */
  probeAfter?: boolean;
}

const BOTH: readonly ConformanceMode[] = ['static', 'dynamic'];
const STATIC: readonly ConformanceMode[] = ['static'];
const DYNAMIC: readonly ConformanceMode[] = ['dynamic'];

export function isSuccess(exchange: Exchange): boolean {
  return exchange.status !== undefined && exchange.status >= 200 && exchange.status < 300;
}

/** The GOT column for one exchange. */
export function describeExchange(exchange: Exchange): string {
  if (exchange.error) {
    switch (exchange.error.kind) {
      case 'reset':
        return 'connection closed';
      case 'refused':
        return 'connection refused';
      default:
        return exchange.error.message;
    }
  }
  const status = exchange.status ?? 0;
  if (status >= 300 && status < 400) return `${status} redirect${exchange.location ? ` to ${exchange.location}` : ''} (not followed)`;
  return String(status);
}

function mustAccept(exchanges: readonly Exchange[]): Judgement {
  const [exchange] = exchanges;
  if (!exchange) return { outcome: 'fail', got: 'nothing sent' };
  const got = describeExchange(exchange);
  if (isSuccess(exchange)) return { outcome: 'pass', got };
  const detail =
    exchange.status !== undefined && exchange.status >= 300 && exchange.status < 400
      ? 'Gemini does not follow redirects: register the final URL.'
      : exchange.error
        ? 'A valid delivery got no answer; Gemini would retry it and eventually disable the webhook.'
        : `A valid delivery was refused${exchange.bodyStart ? ` ("${exchange.bodyStart.trim().slice(0, 80)}")` : ''}.`;
  return { outcome: 'fail', got, detail };
}

function mustReject(exchanges: readonly Exchange[]): Judgement {
  const [exchange] = exchanges;
  if (!exchange) return { outcome: 'fail', got: 'nothing sent' };
  const got = describeExchange(exchange);
  if (isSuccess(exchange)) return { outcome: 'fail', got, detail: 'The receiver acknowledged a delivery it should have refused.' };
  if (exchange.error?.kind === 'timeout') {
    return { outcome: 'warn', got, detail: 'Not accepted, but the receiver hung instead of answering 400/401: each forged request holds a connection open.' };
  }
  return { outcome: 'pass', got };
}

const acceptEvent = (type: string): ConformanceCase => ({
  id: `accept-${type.replace(/[._]/g, '-')}`,
  group: 'must-accept',
  modes: BOTH,
  expected: '2xx',
  risk:
    eventTypeInfo(type)?.inApiEnum === false
      ? `${type} (named in the guide, not in the API enum) is refused: acknowledge types you do not handle, or Gemini retries them for 24 h and disables the webhook.`
      : `${type} deliveries are refused: Gemini retries them for 24 h, then disables the webhook.`,
  build: async (ctx) => [validRequest(await ctx.deliver({ type }))],
  judge: mustAccept,
});

/** Event types come from the catalog, so a new type gets its case without touching this file. */
export function eventCases(eventTypes: readonly string[]): ConformanceCase[] {
  return eventTypes.map(acceptEvent);
}

// Escaped slashes and non-ASCII text survive JSON.parse but not JSON.stringify: a receiver that
// verifies re-serialised JSON instead of the raw bytes refuses this body.
export const NON_ASCII_BODY = (now: string) =>
  `{"type":"batch.succeeded","version":"v1","timestamp":"${now}","data":{"id":"batch_conformance_\u00e9t\u00e9",` +
  `"output_file_uri":"gs:\\/\\/my-bucket\\/r\u00e9sultats \u{1F680}.jsonl","note":"caf\u00e9 \u{1F600} \u65E5\u672C"}}`;

/** A copy of `body` with one byte changed, still valid JSON: the last letter or digit bumped. */
export function flipOneByte(body: string | Buffer): Buffer {
  const bytes = Buffer.from(body);
  for (let i = bytes.length - 1; i >= 0; i--) {
    const c = bytes[i] ?? 0;
    const isAlnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (isAlnum) {
      bytes[i] = c === 0x7a || c === 0x5a || c === 0x39 ? c - 1 : c + 1;
      return bytes;
    }
  }
  return Buffer.concat([bytes, Buffer.from(' ')]);
}

function staticKit(ctx: CaseContext) {
  if (!ctx.static) throw new Error('a static case ran without a secret');
  return ctx.static;
}

function dynamicKit(ctx: CaseContext): DynamicKit {
  if (!ctx.dynamic) throw new Error('a dynamic case ran without a key');
  return ctx.dynamic;
}

/** The one request of a JWT attack: a fresh delivery carrying the token `token` makes for it. */
function withToken(token: (kit: DynamicKit, delivery: Delivery, ctx: CaseContext) => string): ConformanceCase['build'] {
  return async (ctx) => {
    const kit = dynamicKit(ctx);
    const delivery = await ctx.deliver();
    return [toRequest(delivery, { signature: token(kit, delivery, ctx) })];
  };
}

const MINUTE = 60;

/** Cases that are not per event type, in the order they run (after the event cases). */
export const FIXED_CASES: readonly ConformanceCase[] = [
  {
    id: 'accept-rotation-header',
    group: 'must-accept',
    modes: STATIC,
    expected: '2xx',
    risk: 'During a secret rotation deliveries carry two signatures; a receiver that reads only the first (or splits at the first comma) refuses them all.',
    async build(ctx) {
      const kit = staticKit(ctx);
      const delivery = await ctx.deliver();
      const stale = kit.signWith(`whsec_${Buffer.from('stale-secret-from-before-the-rotation').toString('base64')}`, delivery);
      return [toRequest(delivery, { signature: `${stale} ${delivery.signature}`, measured: true })];
    },
    judge: mustAccept,
  },
  {
    id: 'accept-mixed-case-headers',
    group: 'must-accept',
    modes: BOTH,
    expected: '2xx',
    risk: 'HTTP header names are case-insensitive; a case-sensitive lookup breaks as soon as a proxy rewrites them.',
    async build(ctx) {
      const delivery = await ctx.deliver();
      return [toRequest(delivery, { names: { id: 'Webhook-Id', timestamp: 'WEBHOOK-TIMESTAMP', signature: 'Webhook-Signature' }, measured: true })];
    },
    judge: mustAccept,
  },
  {
    id: 'accept-non-ascii-body',
    group: 'must-accept',
    modes: BOTH,
    expected: '2xx',
    risk: 'Verifying re-serialised JSON (or a re-decoded string) instead of the raw bytes refuses bodies with escaped slashes or non-ASCII text.',
    async build(ctx) {
      const body = NON_ASCII_BODY(new Date(ctx.nowSeconds() * 1000).toISOString().replace('.000Z', 'Z'));
      return [validRequest(await ctx.deliver({ body }))];
    },
    judge: mustAccept,
  },
  {
    id: 'accept-timestamp-4-minutes-old',
    group: 'must-accept',
    modes: BOTH,
    expected: '2xx',
    risk: 'A tolerance tighter than 5 minutes refuses retries and deliveries delayed in transit or by clock skew.',
    build: async (ctx) => [validRequest(await ctx.deliver({ timestamp: String(ctx.nowSeconds() - 4 * MINUTE) }))],
    judge: mustAccept,
  },
  {
    id: 'reject-wrong-secret',
    group: 'must-reject',
    modes: STATIC,
    expected: 'non-2xx',
    risk: 'Anyone who knows the URL can send events: the signature is not checked against your secret.',
    async build(ctx) {
      const kit = staticKit(ctx);
      const delivery = await ctx.deliver();
      return [toRequest(delivery, { signature: kit.signWith(kit.otherSecret, delivery) })];
    },
    judge: mustReject,
  },
  {
    id: 'reject-body-changed',
    group: 'must-reject',
    modes: STATIC,
    expected: 'non-2xx',
    risk: 'A body altered in transit is trusted: the signature is not computed over the body as received.',
    async build(ctx) {
      const delivery = await ctx.deliver();
      return [toRequest(delivery, { body: flipOneByte(delivery.body) })];
    },
    judge: mustReject,
  },
  {
    id: 'reject-timestamp-6-minutes-old',
    group: 'must-reject',
    modes: STATIC,
    expected: 'non-2xx',
    risk: 'Captured deliveries can be replayed at any later time: the timestamp is not checked.',
    build: async (ctx) => [toRequest(await ctx.deliver({ timestamp: String(ctx.nowSeconds() - 6 * MINUTE) }))],
    judge: mustReject,
  },
  {
    id: 'reject-timestamp-6-minutes-ahead',
    group: 'must-reject',
    modes: STATIC,
    expected: 'non-2xx',
    risk: 'Only the age is checked: a delivery stamped in the future stays replayable for as long as it says.',
    build: async (ctx) => [toRequest(await ctx.deliver({ timestamp: String(ctx.nowSeconds() + 6 * MINUTE) }))],
    judge: mustReject,
  },
  {
    id: 'reject-missing-id',
    group: 'must-reject',
    modes: STATIC,
    expected: 'non-2xx',
    risk: 'Deliveries without webhook-id cannot be deduplicated, and the id is part of what is signed.',
    // Signed over an empty id, so a receiver that treats the missing header as "" still finds a match.
    build: async (ctx) => [toRequest(await ctx.deliver({ webhookId: '' }), { omit: ['id'] })],
    judge: mustReject,
  },
  {
    id: 'reject-missing-timestamp',
    group: 'must-reject',
    modes: STATIC,
    expected: 'non-2xx',
    risk: 'Without webhook-timestamp there is no replay window: a captured delivery works forever.',
    build: async (ctx) => [toRequest(await ctx.deliver({ timestamp: '' }), { omit: ['timestamp'] })],
    judge: mustReject,
  },
  {
    id: 'reject-missing-signature',
    group: 'must-reject',
    modes: BOTH,
    expected: 'non-2xx',
    risk: 'Unsigned requests are trusted: anyone who knows the URL can send events.',
    build: async (ctx) => [toRequest(await ctx.deliver(), { omit: ['signature'] })],
    judge: mustReject,
  },
  {
    id: 'reject-signature-without-prefix',
    group: 'must-reject',
    modes: STATIC,
    expected: 'non-2xx',
    risk: 'Signatures are not parsed as `v1,<base64>` entries: other schemes (v1a) or garbage may be taken for v1.',
    async build(ctx) {
      const delivery = await ctx.deliver();
      // Every entry loses it: a delivery signed with several secrets must not keep one valid entry.
      return [toRequest(delivery, { signature: delivery.signature.split(' ').map((entry) => entry.replace(/^v1,/, '')).join(' ') })];
    },
    judge: mustReject,
  },
  {
    id: 'reject-empty-signature',
    group: 'must-reject',
    modes: STATIC,
    expected: 'non-2xx',
    risk: 'An empty signature passes: the comparison succeeds on zero bytes.',
    build: async (ctx) => [toRequest(await ctx.deliver(), { signature: 'v1,' })],
    judge: mustReject,
  },
  {
    id: 'reject-truncated-signature',
    group: 'must-reject',
    modes: STATIC,
    expected: 'non-2xx',
    risk: 'A prefix of the signature passes: the comparison stops at the shorter string, so forging needs far fewer guesses.',
    async build(ctx) {
      const delivery = await ctx.deliver();
      return [toRequest(delivery, { signature: delivery.signature.slice(0, 3 + 20) })];
    },
    judge: mustReject,
  },
  {
    id: 'reject-timestamp-not-numeric',
    group: 'must-reject',
    modes: STATIC,
    expected: 'non-2xx',
    risk: 'A timestamp that is not a number slips past the age check, so the replay window is not enforced.',
    // Signed with the same text, so only the timestamp check can refuse it.
    build: async (ctx) => [toRequest(await ctx.deliver({ timestamp: 'not-a-number' }))],
    judge: mustReject,
  },
  {
    id: 'reject-jwt-wrong-key',
    group: 'must-reject',
    modes: DYNAMIC,
    expected: 'non-2xx',
    risk: 'The token signature is not verified against the JWKS: anyone can mint tokens.',
    build: withToken((kit, delivery) => kit.rs256(kit.claims(delivery), kit.otherKey, kit.key.kid)),
    judge: mustReject,
  },
  {
    id: 'reject-jwt-alg-none',
    group: 'must-reject',
    modes: DYNAMIC,
    expected: 'non-2xx',
    risk: 'Tokens with `alg: none` are trusted without any signature: the algorithm is taken from the token.',
    build: withToken((kit, delivery) => kit.unsigned(kit.claims(delivery))),
    judge: mustReject,
  },
  {
    id: 'reject-jwt-hs256-public-key',
    group: 'must-reject',
    modes: DYNAMIC,
    expected: 'non-2xx',
    risk: 'Algorithm confusion: an HS256 token keyed with the public RSA key (which anyone can fetch) is trusted.',
    build: withToken((kit, delivery) => kit.hs256WithPublicKey(kit.claims(delivery))),
    judge: mustReject,
  },
  {
    id: 'reject-jwt-expired',
    group: 'must-reject',
    modes: DYNAMIC,
    expected: 'non-2xx',
    risk: 'Expired tokens are trusted: a captured delivery can be replayed forever.',
    build: withToken((kit, delivery, ctx) => {
      const hourAgo = ctx.nowSeconds() - 60 * MINUTE;
      const claims = { ...kit.claims(delivery), iat: hourAgo - 5 * MINUTE, exp: hourAgo };
      return kit.rs256(claims, kit.key, kit.key.kid);
    }),
    judge: mustReject,
  },
  {
    id: 'reject-jwt-unknown-kid',
    group: 'must-reject',
    modes: DYNAMIC,
    expected: 'non-2xx',
    risk: 'A token signed by a key outside the JWKS is trusted: the receiver takes the key the token brings along (its jwk header).',
    // The stranger's public key rides in the header, as in the embedded-JWK forgery (CVE-2018-0114).
    build: withToken((kit, delivery) => kit.rs256(kit.claims(delivery), kit.otherKey, kit.otherKey.kid, { jwk: kit.otherKey.publicJwk })),
    judge: mustReject,
  },
  {
    id: 'reject-jwt-wrong-audience',
    group: 'must-reject',
    modes: DYNAMIC,
    expected: 'non-2xx',
    risk: 'The audience is not checked: a token minted for someone else\'s endpoint is accepted by yours.',
    build: withToken((kit, delivery) => {
      const claims = { ...kit.claims(delivery), aud: 'https://someone-else.example/webhook' };
      return kit.rs256(claims, kit.key, kit.key.kid);
    }),
    judge: mustReject,
  },
  {
    id: 'handle-duplicate-id',
    group: 'should',
    modes: BOTH,
    expected: '2xx twice',
    risk: 'Gemini delivers at least once: deduplicate on webhook-id (gemwh cannot see whether you do), and acknowledge repeats.',
    async build(ctx) {
      const first = await ctx.deliver();
      // A retry keeps the id and the body but is signed again with the time of the new attempt.
      const retry = await ctx.deliver({ webhookId: first.webhookId, body: first.body, timestamp: String(Number(first.timestamp) + 1) });
      return [validRequest(first), validRequest(retry)];
    },
    judge(exchanges) {
      const got = exchanges.map(describeExchange).join(', ');
      const [first, second] = exchanges;
      if (first && second && isSuccess(first) && isSuccess(second)) return { outcome: 'pass', got };
      return {
        outcome: 'warn',
        got,
        detail: 'Answer 2xx to a repeated webhook-id (and skip the work): any other answer makes Gemini retry it.',
      };
    },
  },
  {
    id: 'handle-response-time',
    group: 'should',
    modes: BOTH,
    expected: 'answers < 2 s',
    risk: 'Gemini expects an answer within seconds and retries slow ones: acknowledge first, then do the work.',
    build: async (ctx) => [validRequest(await ctx.deliver())],
    judge(_exchanges, ctx) {
      const slowest = Math.max(0, ...ctx.validLatencies);
      const got = ctx.validTimeouts > 0 ? `${ctx.validTimeouts} timed out` : `max ${formatMs(slowest)}`;
      if (ctx.validTimeouts > 0 || slowest > ctx.slowFailMs) {
        return { outcome: 'fail', got, detail: `Valid deliveries took over ${formatMs(ctx.slowFailMs)}: Gemini treats them as failed and retries.` };
      }
      if (slowest > ctx.slowWarnMs) {
        return { outcome: 'warn', got, detail: `A valid delivery took over ${formatMs(ctx.slowWarnMs)}: answer first, process in the background.` };
      }
      return { outcome: 'pass', got };
    },
  },
  {
    // Last on purpose: a receiver that dies here cannot take the other cases down with it.
    id: 'handle-oversized-body',
    group: 'should',
    modes: BOTH,
    expected: 'survives',
    risk: 'A huge body (e.g. 5 MB) crashes or wedges the receiver, which then drops every real delivery.',
    probeAfter: true,
    async build(ctx) {
      const envelope = ctx.eventBody('batch.succeeded');
      const padding = 'x'.repeat(Math.max(0, ctx.oversizedBytes - envelope.length - 20));
      const body = envelope.replace(/\}\}$/, `,"padding":"${padding}"}}`);
      // Not measured: uploading megabytes says nothing about how fast the receiver acknowledges.
      return [toRequest(await ctx.deliver({ body }))];
    },
    judge(exchanges) {
      const [exchange] = exchanges;
      if (!exchange) return { outcome: 'fail', got: 'nothing sent' };
      const got = describeExchange(exchange);
      if (exchange.error?.kind === 'timeout') {
        return { outcome: 'warn', got, detail: 'The receiver neither answered nor closed the connection: cap the body size and answer 413.' };
      }
      return { outcome: 'pass', got };
    },
  },
];

/** The whole battery for a mode, in running order. */
export function casesFor(mode: ConformanceMode, eventTypes: readonly string[]): ConformanceCase[] {
  return [...eventCases(eventTypes), ...FIXED_CASES].filter((c) => c.modes.includes(mode));
}

/** Every case id of both modes, for --only validation, completion and the README. */
export function allCases(eventTypes: readonly string[]): ConformanceCase[] {
  return [...eventCases(eventTypes), ...FIXED_CASES];
}

/** Used by the engine and a test: the delivery a probe sends after a case. */
export async function probeRequest(ctx: CaseContext): Promise<OutgoingRequest> {
  const delivery: Delivery = await ctx.deliver();
  return validRequest(delivery);
}
