import { describe, expect, it } from 'vitest';
import { SecretStoreError, UsageError } from '../../src/errors.js';
import { freshSecret } from '../../src/secrets/current-secrets.js';
import { createMemoryStore } from '../../src/secrets/memory-store.js';
import { givenSecretFlags, secretsFromFlags, storedSecrets } from '../../src/secrets/secret-flags.js';

const A = `whsec_${Buffer.alloc(24, 1).toString('base64')}`;
const B = `whsec_${Buffer.alloc(24, 2).toString('base64')}`;

describe('secret flags', () => {
  it('labels --secret and --secret-env by where they came from', () => {
    const env = { ONE: ` ${A} `, LIST: `${A} ${B}` };
    expect(secretsFromFlags({ secrets: [A], secretEnv: ['ONE'] }, env)).toEqual([
      { secret: A, label: '--secret #1' },
      { secret: A, label: '$ONE' },
    ]);
    expect(secretsFromFlags({ secrets: [A], secretEnv: ['LIST'] }, env, { numbering: 'when-several', envList: true }).map((c) => c.label)).toEqual([
      '--secret',
      '$LIST #1',
      '$LIST #2',
    ]);
  });

  it('refuses a bad secret or an unset variable with a usage error naming the flag', () => {
    expect(() => secretsFromFlags({ secrets: [A, 'v1,abc'] }, {})).toThrow(/^--secret #2 \(…\): this is a signature/);
    expect(() => secretsFromFlags({ secretEnv: ['NOPE'] }, {})).toThrow(UsageError);
    expect(() => secretsFromFlags({ secretEnv: ['NOPE'] }, {})).toThrow('--secret-env NOPE: the environment variable is not set or empty');
    expect(() => secretsFromFlags({ secretEnv: ['NOPE'] }, { NOPE: ' ' }, { envList: true })).toThrow(/NOPE is not set/);
  });

  it('reads named webhooks from the store and insists on each', async () => {
    const store = createMemoryStore();
    const now = Date.now();
    await store.setWebhookSecrets('wh_1', [freshSecret(A, now)]);
    expect((await storedSecrets(store, ['wh_1'], now)).candidates).toEqual([{ secret: A, label: 'wh_1' }]);
    await expect(storedSecrets(store, ['wh_1', 'wh_2'], now)).rejects.toThrow(SecretStoreError);
    expect((await storedSecrets(store, undefined, now)).webhookIds).toEqual(['wh_1']);
  });

  it('names the flags given', () => {
    expect(givenSecretFlags({ secrets: [], secretEnv: ['X'], webhookIds: ['w'] })).toEqual(['--secret-env', '--webhook']);
  });
});
