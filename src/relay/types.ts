/**
 * The relay's data: a delivery as Gemini sent it (raw body, headers in order) plus where the store
 * put it, and the storage interface both stores (the embedded log, Redis Streams) implement.
 */

export interface StoredDelivery {
  /** The store's position of this delivery in its channel; the SSE event id. Ordered within a channel. */
  id: string;
  /** Epoch ms when the relay received it. */
  receivedAt: number;
  /** Path and query as requested at the ingest URL. */
  path: string;
  /** Header name/value pairs in the order received. */
  headers: Array<[string, string]>;
  body: Buffer;
}

export type NewDelivery = Omit<StoredDelivery, 'id'>;

export interface ChannelInfo {
  id: string;
  name: string;
  createdAt: number;
}

export interface TokenInfo {
  id: string;
  name: string;
  createdAt: number;
  /** sha256 of the token, hex: the token itself is shown once and never stored. */
  hash: string;
}

export interface RelayStore {
  /** e.g. "dir /var/lib/gemwh-relay" or "redis redis://host:6379": for logs and the health endpoint. */
  readonly description: string;

  /** Stores the delivery durably (fsync'd / acknowledged by Redis) and returns its id. */
  append(channel: string, delivery: NewDelivery): Promise<string>;
  /** Deliveries after `after` (undefined: from the oldest kept), oldest first, at most `limit`. */
  read(channel: string, after: string | undefined, limit: number): Promise<StoredDelivery[]>;
  /** The id of the newest delivery, or undefined when the channel is empty. */
  tail(channel: string): Promise<string | undefined>;
  /** How many deliveries follow `after` (capped at `cap`: the answer may say "cap or more"). */
  countAfter(channel: string, after: string | undefined, cap: number): Promise<number>;
  /**
   * Resolves when a delivery newer than `after` may be there, or after `maxWaitMs`, or when
   * `signal` aborts. Spurious wake-ups are allowed: the caller reads again.
   */
  waitForNew(channel: string, after: string | undefined, maxWaitMs: number, signal: AbortSignal): Promise<void>;
  /** Whether `id` is a position this store could have produced (a Last-Event-ID from a client). */
  isValidId(id: string): boolean;

  createChannel(channel: ChannelInfo): Promise<void>;
  getChannel(id: string): Promise<ChannelInfo | undefined>;
  listChannels(): Promise<ChannelInfo[]>;
  /** Removes the channel and every delivery kept for it; false when it did not exist. */
  deleteChannel(id: string): Promise<boolean>;

  createToken(token: TokenInfo): Promise<void>;
  listTokens(): Promise<TokenInfo[]>;
  findTokenByHash(hash: string): Promise<TokenInfo | undefined>;
  revokeToken(id: string): Promise<boolean>;

  /** Drops deliveries older than the retention. */
  prune(now: number): Promise<void>;
  /** Waits for appends in flight, then releases files / connections. */
  close(): Promise<void>;
}
