import { Writable } from 'node:stream';
import type { Deps } from '../deps.js';
import { openSecretStore } from '../secrets/open-store.js';
import type { StoredSecret } from '../secrets/types.js';

/**
 * Values the completion scripts ask gemwh for when TAB is pressed, because they change after the
 * script was generated: `gemwh __complete webhook-ids` prints one `ID<TAB>description` line per
 * webhook in the secret store. cli.ts answers it before commander or any command module loads.
 *
 * It never touches the network, never prints a secret (the description is made of dates and
 * counts), and prints nothing at all (exit 0) when the store cannot be read: a TAB must not show
 * an error, and a keychain that is locked or absent simply offers no ids.
 */


/** A keychain call at TAB time gets this long (the usual 5 s would freeze the prompt). */
const KEYCHAIN_TIMEOUT_MS = 1500;
/** Beyond this many ids the descriptions are left out: each one is a keychain read. */
const DESCRIBED_MAX = 100;
/** Ids are printed into shell word lists: anything else (a hand-edited secrets file) is skipped. */
const PLAIN_ID = /^[A-Za-z0-9_.-]+$/;

export async function dynamicValues(kind: string, deps: Deps): Promise<string> {
  if (kind !== 'webhook-ids') return '';
  const quiet: Deps = {
    ...deps,
    // The file store warns on stderr about loose permissions: not at a prompt.
    io: { ...deps.io, stderr: new Writable({ write: (_chunk, _encoding, done) => done() }) },
    env: { ...deps.env, GEMWH_KEYCHAIN_TIMEOUT_MS: deps.env.GEMWH_KEYCHAIN_TIMEOUT_MS ?? String(KEYCHAIN_TIMEOUT_MS) },
  };
  try {
    const store = await openSecretStore(quiet);
    const ids = (await store.listWebhookIds()).filter((id) => PLAIN_ID.test(id));
    const now = deps.clock.now();
    const lines = await Promise.all(
      ids.map(async (id) => {
        if (ids.length > DESCRIBED_MAX) return id;
        const secrets = await store.getWebhookSecrets(id).catch(() => undefined);
        const description = secrets ? describe(secrets, now) : '';
        return description ? `${id}\t${description}` : id;
      }),
    );
    return lines.map((line) => `${line}\n`).join('');
  } catch {
    return '';
  }
}

/** "secret from 2026-05-04", or "2 secrets, newest from 2026-05-04" during a rotation. */
function describe(secrets: readonly StoredSecret[], now: number): string {
  const live = secrets.filter((s) => s.expiresAt === undefined || Date.parse(s.expiresAt) > now);
  const newest = live.map((s) => s.createdAt).sort().at(-1);
  if (newest === undefined) return secrets.length > 0 ? 'only expired secrets' : '';
  const day = newest.slice(0, 10);
  return live.length === 1 ? `secret from ${day}` : `${live.length} secrets, newest from ${day}`;
}
