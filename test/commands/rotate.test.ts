import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign, verifyStatic } from '../../src/core/standard-webhooks.js';
import { ExitCode } from '../../src/errors.js';
import { loadVerificationSecrets } from '../../src/secrets/current-secrets.js';
import { createFileStore } from '../../src/secrets/file-store.js';
import { createdId, startManageSession, type ManageSession, helpExamples } from './manage-session.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('gemwh rotate', () => {
  let session: ManageSession;
  beforeAll(async () => {
    session = await startManageSession();
  });
  afterAll(() => session.stop());

  const secretsPath = () => join(session.paths.config, 'secrets.json');
  const local = (id: string) => JSON.parse(readFileSync(secretsPath(), 'utf8')).webhooks[id] as Array<{ secret: string; createdAt: string; expiresAt?: string }>;
  const create = async () => createdId(await session.run(['create', '--uri', 'https://hooks.example.com/r', '--events', 'batch.succeeded']));
  const serverSecrets = (id: string) => session.emulator.store.activeSecrets(id).map((s) => s.secret);

  it('keeps the previous secret for 24 hours by default, so deliveries signed with either verify', async () => {
    const id = await create();
    const [original] = serverSecrets(id);
    const before = Date.now();
    const result = await session.run(['rotate', id]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/previous secrets keep working until \d{4}-\d\d-\d\dT[\d:]+Z/);

    const [fresh, previous] = local(id);
    expect([fresh!.secret, previous!.secret]).toEqual(serverSecrets(id));
    expect(previous!.secret).toBe(original);
    expect(fresh!.expiresAt).toBeUndefined();
    const expiresAt = Date.parse(previous!.expiresAt!);
    expect(expiresAt).toBeGreaterThanOrEqual(before + DAY_MS);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + DAY_MS);

    // What listen does with them: both verify, the old one reported as in grace.
    const { candidates } = await loadVerificationSecrets(createFileStore(secretsPath()), Date.now(), [id]);
    const body = '{"type":"batch.succeeded"}';
    const ts = Math.floor(Date.now() / 1000);
    for (const [secret, label, inGrace] of [[fresh!.secret, id, false], [original!, `${id} (previous)`, true]] as const) {
      const verdict = verifyStatic({ headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': sign('msg_1', ts, body, secret) }, rawBody: body, secrets: candidates, now: Date.now() });
      expect(verdict).toMatchObject({ ok: true, matched: { label, inGrace } });
    }
  });

  it('drops the previous secrets at once with --grace 0', async () => {
    const id = await create();
    await session.run(['rotate', id]);
    const result = await session.run(['rotate', id, '--grace', '0', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      id,
      revocationBehavior: 'revoke_previous_secrets_immediately',
      previousSecretsExpireAt: null,
      localSecrets: 1,
    });
    expect(local(id).map((s) => s.secret)).toEqual(serverSecrets(id));
    expect(local(id)).toHaveLength(1);
  });

  it('accepts immediate as --grace 0 and reports the 24 h behaviour in JSON', async () => {
    const id = await create();
    const json = JSON.parse((await session.run(['rotate', id, '--json'])).stdout);
    expect(json.revocationBehavior).toBe('revoke_previous_secrets_after_h24');
    expect(json.localSecrets).toBe(2);
    expect(json.secret).toBeUndefined();
    expect((await session.run(['rotate', id, '--grace', 'immediate'])).code).toBe(0);
    expect(serverSecrets(id)).toHaveLength(1);
  });

  it('refuses any other grace period, saying the API offers only two, before calling the API', async () => {
    const id = await create();
    const before = serverSecrets(id);
    const result = await session.run(['rotate', id, '--grace', '12h']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toMatch(/offers only two: --grace 24h .* --grace 0/);
    expect(serverSecrets(id)).toEqual(before);
  });

  it('prints the new secret alone with --print-secret', async () => {
    const id = await create();
    const result = await session.run(['rotate', id, '--print-secret']);
    expect(result.stdout).toBe(`${serverSecrets(id)[0]}\n`);
    expect(local(id)[0]!.secret).toBe(serverSecrets(id)[0]);
  });

  it('does not rotate when the secret store is unusable, so no secret is minted unseen', async () => {
    const id = await create();
    const before = serverSecrets(id);
    const intact = readFileSync(secretsPath(), 'utf8');
    writeFileSync(secretsPath(), 'damaged');
    try {
      const result = await session.run(['rotate', id]);
      expect(result.code).toBe(ExitCode.SECRET_STORE);
      expect(result.stderr).toMatch(/not valid gemwh JSON/);
      expect(serverSecrets(id)).toEqual(before);

      // With --print-secret the store is optional: it rotates and prints.
      const printed = await session.run(['rotate', id, '--print-secret']);
      expect(printed.code).toBe(0);
      expect(printed.stdout).toBe(`${serverSecrets(id)[0]}\n`);
      expect(printed.stderr).toMatch(/will be printed only/);
    } finally {
      writeFileSync(secretsPath(), intact);
    }
  });

  it('exits 5 for an unknown id and leaves the store alone', async () => {
    const before = readFileSync(secretsPath(), 'utf8');
    const result = await session.run(['rotate', 'nosuchwebhook0000000000000000000000']);
    expect(result.code).toBe(ExitCode.NOT_FOUND);
    expect(readFileSync(secretsPath(), 'utf8')).toBe(before);
  });

  it.each(['rotate'])('gemwh %s --help ends with real examples', async (command) => {
    const examples = await helpExamples(command.split(' '));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) expect(example).toContain(command.split(' ').at(-1));
  });
});
