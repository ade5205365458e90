import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { pickWebhookId } from '../../src/manage/resolve-id.js';
import { runMain } from '../../src/program.js';
import { makeTestDeps } from '../helpers/deps.js';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.js';

describe('pickWebhookId: a unique prefix names a webhook, as git does with hashes', () => {
  const ids = ['k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f', 'k0h1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'];
  it('resolves an exact id and a unique prefix; an unknown one comes back unchanged for the caller to report', () => {
    expect(pickWebhookId(ids[0]!, ids)).toBe(ids[0]);
    expect(pickWebhookId('k0h9', ids)).toBe(ids[0]);
    expect(pickWebhookId('z', ids)).toBe(ids[2]);
    expect(pickWebhookId('nope', ids)).toBe('nope');
  });
  it('an ambiguous prefix is a usage error listing the candidates', () => {
    expect(() => pickWebhookId('k0h', ids)).toThrow(UsageError);
    expect(() => pickWebhookId('k0h', ids)).toThrow(/ambiguous.*k0h1a+, k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f/);
  });
});

describe('commands take a webhook id prefix', () => {
  let emulator: TestEmulator;
  const created: string[] = [];
  const run = async (args: string[]) => {
    const t = makeTestDeps({ env: { ...emulator.env, GEMWH_SECRET_STORE: 'file' } });
    const code = await runMain(args, t.deps);
    const result = { code, stdout: t.stdout(), stderr: t.stderr() };
    t.cleanup();
    return result;
  };
  beforeAll(async () => {
    emulator = await startTestEmulator();
    // 37 ids over a 36-letter alphabet: two share a first letter (pigeonhole), so one prefix is ambiguous.
    for (let i = 0; i < 37; i++) {
      const result = await run(['create', '--uri', `https://app.example/${i}`, '--events', 'batch.succeeded', '--json']);
      expect(result.code, result.stderr).toBe(0);
      created.push((JSON.parse(result.stdout) as { id: string }).id);
    }
  }, 60_000);
  afterAll(() => emulator.stop());

  it('get, ping and update accept a unique prefix', async () => {
    const id = created[0]!;
    const prefix = [8, 12, 20, 35].map((n) => id.slice(0, n)).find((p) => created.filter((c) => c.startsWith(p)).length === 1)!;
    const got = await run(['get', prefix, '--json']);
    expect(got.code, got.stderr).toBe(0);
    expect((JSON.parse(got.stdout) as { id: string }).id).toBe(id);
    expect((await run(['ping', prefix])).code).toBe(0);
    const updated = await run(['update', prefix, '--name', 'renamed', '--json']);
    expect(updated.code, updated.stderr).toBe(0);
    expect((JSON.parse(updated.stdout) as { id: string }).id).toBe(id);
  });

  it('an ambiguous prefix exits 2 and lists the candidates', async () => {
    const letter = created.map((c) => c[0]!).find((l, _, all) => all.filter((x) => x === l).length > 1)!;
    const result = await run(['get', letter]);
    expect(result.code).toBe(2);
    for (const id of created.filter((c) => c.startsWith(letter))) expect(result.stderr).toContain(id);
  });
});

describe('secret set checks the webhook exists when it can', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator.stop());
  const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

  it('refuses an id the API does not know; stores under the full id a prefix names', async () => {
    const setup = makeTestDeps({ env: { ...emulator.env, GEMWH_SECRET_STORE: 'file' } });
    expect(await runMain(['create', '--uri', 'https://app.example/x', '--events', 'batch.succeeded', '--json'], setup.deps)).toBe(0);
    const id = (JSON.parse(setup.stdout()) as { id: string }).id;
    setup.cleanup();
    const unknown = makeTestDeps({ env: { ...emulator.env, GEMWH_SECRET_STORE: 'file' }, stdin: SECRET });
    expect(await runMain(['secret', 'set', 'doesnotexist0000000000000000000000000'], unknown.deps)).not.toBe(0);
    unknown.cleanup();
    const known = makeTestDeps({ env: { ...emulator.env, GEMWH_SECRET_STORE: 'file' }, stdin: SECRET });
    expect(await runMain(['secret', 'set', id.slice(0, 30), '--json'], known.deps), known.stderr()).toBe(0);
    expect(JSON.parse(known.stdout())).toMatchObject({ id, stored: true });
    known.cleanup();
  });

  it('without an API key it stores the secret and warns', async () => {
    const t = makeTestDeps({ env: { GEMWH_SECRET_STORE: 'file' }, stdin: SECRET });
    expect(await runMain(['secret', 'set', 'k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f'], t.deps), t.stderr()).toBe(0);
    expect(t.stderr()).toMatch(/warning: could not check that webhook k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f exists/);
    t.cleanup();
  });
});

describe('--webhook (listen, replay, conformance) takes a unique prefix of a stored id', () => {
  it('storedSecrets resolves prefixes against the store, and refuses an ambiguous one', async () => {
    const { createMemoryStore } = await import('../../src/secrets/memory-store.js');
    const { freshSecret } = await import('../../src/secrets/current-secrets.js');
    const { storedSecrets } = await import('../../src/secrets/secret-flags.js');
    const secret = freshSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 0);
    const a = 'k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f';
    const b = 'k0h1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const store = createMemoryStore({ webhooks: { [a]: [secret], [b]: [secret] } });
    const found = await storedSecrets(store, ['k0h9'], 1);
    expect(found.candidates.map((c) => c.label)).toEqual([expect.stringContaining(a)]);
    await expect(storedSecrets(store, ['k0h'], 1)).rejects.toThrow(/ambiguous/);
  });
});
