import { describe, expect, it } from 'vitest';
import { SecretStoreError, UsageError } from '../../src/errors.js';
import { freshSecret } from '../../src/secrets/current-secrets.js';
import { createMemoryStore } from '../../src/secrets/memory-store.js';
import { checkSecret, givenSecretFlags, secretsFromFlags, storedSecrets } from '../../src/secrets/secret-flags.js';
import { runGemwh } from '../helpers/deps.js';

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

describe('secret length', () => {
  const secretOf = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`;

  it('refuses a secret under 16 bytes, warns under 24, says nothing from 24 on', async () => {
    expect(() => checkSecret(secretOf(15), '--secret')).toThrow(/only 15 byte\(s\) after whsec_; real ones have 32/);
    expect(checkSecret(secretOf(16), '--secret')).toBe(secretOf(16));

    const weak = await runGemwh(['verify', '--body', '-', '--header', 'webhook-id: msg_1', '--header', 'webhook-timestamp: 1', '--header', 'webhook-signature: v1,AAAA', '--secret', secretOf(20), '--now', '1'], { stdin: '{}' });
    expect(weak.stderr).toMatch(/warning: --secret \(whsec_…\S+\): the signing secret has only 20 byte\(s\).*weak/);
    const strong = await runGemwh(['verify', '--body', '-', '--header', 'webhook-id: msg_1', '--header', 'webhook-timestamp: 1', '--header', 'webhook-signature: v1,AAAA', '--secret', secretOf(24), '--now', '1'], { stdin: '{}' });
    expect(strong.stderr).not.toMatch(/warning/);
    const tooShort = await runGemwh(['replay', 'fixture', 'batch.succeeded', '--to', '1', '--secret', 'whsec_QUFB']);
    expect(tooShort.code).toBe(2);
    expect(tooShort.stderr).toMatch(/only 3 byte/);
  });
});
