/** One signing secret of a webhook as kept locally. Times are ISO 8601 strings. */
export interface StoredSecret {
  /** `whsec_` + base64, exactly as the API returned it. */
  secret: string;
  createdAt: string;
  /** Set when a rotation with a 24 h grace period made this secret stop working at that time. */
  expiresAt?: string;
}

/**
 * Where gemwh keeps once-only signing secrets and the API key. Implementations: the OS keychain
 * (Secret Service on Linux), a 0600 file, and memory (tests, `listen --emulator`, `--public-url`).
 */
export interface SecretStore {
  readonly kind: 'keychain' | 'file' | 'memory';
  /** Human description of where secrets live, e.g. `OS keychain (service "gemwh")`. */
  readonly location: string;
  /** Throws SecretStoreError with the cause and the ways out when the store is unusable. */
  check(): Promise<void>;
  listWebhookIds(): Promise<string[]>;
  getWebhookSecrets(webhookId: string): Promise<StoredSecret[] | undefined>;
  setWebhookSecrets(webhookId: string, secrets: StoredSecret[]): Promise<void>;
  /**
   * Read-modify-write of a webhook's secrets that no other gemwh process can interleave with
   * (create, rotate and listen's pruning run at the same time in different terminals). `edit` gets
   * what is stored now and returns the new list, or undefined to remove the entry; nothing is
   * written when the list is unchanged. Resolves to what is stored afterwards.
   */
  updateWebhookSecrets(webhookId: string, edit: (current: StoredSecret[] | undefined) => StoredSecret[] | undefined): Promise<StoredSecret[] | undefined>;
  /** Resolves false when there was nothing to delete. */
  deleteWebhookSecrets(webhookId: string): Promise<boolean>;
  getApiKey(): Promise<string | undefined>;
  setApiKey(apiKey: string): Promise<void>;
  deleteApiKey(): Promise<boolean>;
}
