/**
 * The webhook-ids a session has taken, most recent last, bounded: a delivery whose id is here
 * is a duplicate. Seeded from the journal at start, so that a restart does not forward twice.
 */
export interface SeenId {
  /** Journal key of the first delivery with this id. */
  key: string;
  /** Its seq in this session (absent when an earlier run took it). */
  seq?: number;
  /**
   * Settles once the first delivery's journal line is written: a duplicate is acknowledged only
   * after that. `true` once it is (the promise is not kept for the tens of thousands remembered).
   */
  persisted: Promise<boolean> | true;
}

export class SeenIds {
  private readonly ids = new Map<string, SeenId>();

  constructor(private readonly capacity: number) {}

  get(webhookId: string): SeenId | undefined {
    return this.ids.get(webhookId);
  }

  remember(webhookId: string, entry: SeenId): void {
    this.ids.delete(webhookId);
    this.ids.set(webhookId, entry);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.keys().next().value!);
  }

  /**
   * Remembers `webhookId` as taken by a delivery whose journal line is being written; the
   * returned function settles that: written (`true`), or not (`false`: the id is forgotten,
   * so that the sender's retry is taken as new).
   */
  claim(webhookId: string, key: string, seq: number): (written: boolean) => void {
    let settle!: (written: boolean) => void;
    const entry: SeenId = { key, seq, persisted: new Promise<boolean>((resolve) => (settle = resolve)) };
    this.remember(webhookId, entry);
    return (written) => {
      settle(written);
      if (written) entry.persisted = true;
      else if (this.ids.get(webhookId) === entry) this.ids.delete(webhookId);
    };
  }

  /**
   * The first delivery with this id, once its journal line is written; undefined when the id is
   * new or that write failed. Synchronous unless that write is still under way.
   */
  duplicateOf(webhookId: string | undefined): SeenId | undefined | Promise<SeenId | undefined> {
    const seen = webhookId === undefined ? undefined : this.ids.get(webhookId);
    if (!seen || seen.persisted === true) return seen;
    return seen.persisted.then((written) => (written ? seen : undefined));
  }
}
