import type { Rejected, Verdict } from '../core/verdict.js';

/**
 * What a session has taken, by dedup key (webhook-ids, and a JWT's jti and token), most recent
 * last, bounded: a delivery with a key here is a duplicate. Seeded from the journal at start, so
 * that a restart does not forward twice.
 */
export interface SeenId {
  /** Journal key of the first delivery with this id. */
  key: string;
  /** Its seq in this session (absent when an earlier run took it). */
  seq?: number;
  /**
   * `true` once the first delivery's journal line is written: a duplicate is acknowledged only
   * after that. Until then, the duplicates waiting for it (none, nearly always: no promise is
   * made per delivery).
   */
  persisted: true | Array<(written: boolean) => void>;
}

export class SeenIds {
  private readonly ids = new Map<string, SeenId>();

  constructor(private readonly capacity: number) {}

  remember(dedupKey: string, entry: SeenId): void {
    this.ids.delete(dedupKey);
    this.ids.set(dedupKey, entry);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.keys().next().value!);
  }

  /** Remembers `dedupKeys` as taken by a delivery whose journal line is being written; settle() says how that went. */
  claim(dedupKeys: readonly string[], key: string, seq: number): SeenId {
    const entry: SeenId = { key, seq, persisted: [] };
    for (let i = 0; i < dedupKeys.length; i++) this.remember(dedupKeys[i]!, entry);
    return entry;
  }

  /** Settles a claim: its journal line was written (`true`), or not (its keys are forgotten, so that the sender's retry is taken as new). */
  settle(entry: SeenId, dedupKeys: readonly string[], written: boolean): void {
    const waiting = entry.persisted;
    if (written) entry.persisted = true;
    else for (const dedupKey of dedupKeys) if (this.ids.get(dedupKey) === entry) this.ids.delete(dedupKey);
    if (waiting !== true) for (const wake of waiting) wake(written);
  }

  /**
   * The first delivery with any of these keys, once its journal line is written; undefined when
   * they are new or that write failed. Synchronous unless that write is still under way.
   */
  firstOf(dedupKeys: readonly string[]): SeenId | undefined | Promise<SeenId | undefined> {
    let seen: SeenId | undefined;
    for (const dedupKey of dedupKeys) if ((seen = this.ids.get(dedupKey))) break;
    if (!seen || seen.persisted === true) return seen;
    const found = seen;
    const waiting = seen.persisted;
    return new Promise((resolve) => waiting.push((written) => resolve(written ? found : undefined)));
  }
}

/**
 * What a verified delivery is deduplicated on. The webhook-id header is not signed: a captured
 * dynamic delivery re-sent under a new id would pass as new. So a JWT also counts by its `jti`
 * (the same event re-signed for a retry keeps it) and by the token itself (one without a jti).
 */
export function dedupKeys(verdict: Exclude<Verdict, Rejected>, webhookId: string | undefined, signatureHeader: string | undefined): string[] {
  const keys = webhookId === undefined ? [] : [webhookId];
  if (verdict.scheme !== 'dynamic') return keys;
  const jti = verdict.claims.jti;
  if (typeof jti === 'string' && jti !== '') keys.push(`jwt jti ${jti}`);
  const token = signatureHeader?.trim() ?? '';
  const tokenSignature = token.slice(token.lastIndexOf('.') + 1);
  if (tokenSignature !== '') keys.push(`jwt signature ${tokenSignature}`);
  return keys;
}
