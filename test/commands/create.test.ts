import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { createdId, startManageSession, type ManageSession, helpExamples } from './manage-session.js';

describe('gemwh create', () => {
  let session: ManageSession;
  beforeAll(async () => {
    session = await startManageSession();
  });
  afterAll(() => session.stop());

  const secretsFile = () => JSON.parse(readFileSync(join(session.paths.config, 'secrets.json'), 'utf8'));

  it('creates the webhook, prints its id and stores the once-only secret locally', async () => {
    const result = await session.run(['create', '--uri', 'https://hooks.example.com/a', '--events', 'batch.succeeded,batch.failed', '--name', 'batches']);
    expect(result.code).toBe(0);
    const id = createdId(result);
    const onServer = session.emulator.store.get(id);
    expect(onServer.subscribed_events).toEqual(['batch.succeeded', 'batch.failed']);
    expect(onServer.name).toBe('batches');
    const stored = secretsFile().webhooks[id];
    expect(stored).toHaveLength(1);
    expect(stored[0].secret).toMatch(/^whsec_/);
    expect(statSync(join(session.paths.config, 'secrets.json')).mode & 0o777).toBe(0o600);
    expect(result.stderr).toContain(`Created webhook ${id} (batches)`);
    expect(result.stderr).toContain('Signing secret stored in file ');
    expect(result.stderr + result.stdout).not.toContain(stored[0].secret);
    // Writing a secret to the file store is when the plain-text warning is due; reading it (list) is not.
    expect(result.stderr).toMatch(/warning: secrets are stored in plain text/);
    const list = await session.run(['list']);
    expect(list.code).toBe(0);
    expect(list.stderr).not.toMatch(/plain text/);
  });

  it('takes a plain http uri from the emulator without the warning meant for the real API', async () => {
    const result = await session.run(['create', '--uri', 'http://127.0.0.1:3000/hook', '--events', 'batch.succeeded']);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/https/);
  });

  it('with --print-secret prints the secret alone on stdout, and it is the one that signs', async () => {
    const result = await session.run(['create', '--uri', 'https://hooks.example.com/b', '--events', 'video.generated', '--print-secret']);
    expect(result.code).toBe(0);
    const secret = result.stdout.trim();
    expect(result.stdout).toBe(`${secret}\n`);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    const id = /Created webhook (\S+)/.exec(result.stderr)![1]!;
    expect(secretsFile().webhooks[id][0].secret).toBe(secret);
  });

  it('prints the created webhook as JSON with --json, without the secret', async () => {
    const result = await session.run(['create', '--uri', 'https://hooks.example.com/c', '--events', 'interaction.completed', '--events', 'interaction.failed', '--json']);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({ uri: 'https://hooks.example.com/c', subscribed_events: ['interaction.completed', 'interaction.failed'], state: 'enabled', localSecrets: 1 });
    expect(json.new_signing_secret).toBeUndefined();
    expect(result.stdout).not.toContain(secretsFile().webhooks[json.id][0].secret);
  });

  it('includes the secret in --json only with --print-secret', async () => {
    const result = await session.run(['create', '--uri', 'https://hooks.example.com/d', '--events', 'batch.expired', '--json', '--print-secret']);
    const json = JSON.parse(result.stdout);
    expect(json.new_signing_secret).toBe(secretsFile().webhooks[json.id][0].secret);
  });

  it('rejects an unknown event type listing the valid ones, without calling the API', async () => {
    const before = session.emulator.store.list({}).webhooks?.length ?? 0;
    const result = await session.run(['create', '--uri', 'https://hooks.example.com/e', '--events', 'batch.succeded']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toMatch(/unknown event type "batch.succeded" \(did you mean "batch.succeeded"\?\)/);
    expect(result.stderr).toContain('video.generated');
    expect(result.stdout).toBe('');
    expect(session.emulator.store.list({}).webhooks?.length ?? 0).toBe(before);
  });

  it('sends unknown event types with --allow-unknown-events, with a warning, and reports the API refusing them', async () => {
    const result = await session.run(['create', '--uri', 'https://hooks.example.com/f', '--events', 'model.tuned', '--allow-unknown-events']);
    expect(result.stderr).toMatch(/warning: --events: "model.tuned" is not a known event type/);
    // The emulator is as strict as the live API: outside the 7 values, a 400 that lists them.
    expect(result.code).toBe(ExitCode.API);
    expect(result.stderr).toMatch(/Allowed values: batch\.succeeded, .*video\.generated/);
  });

  it('refuses the guide-only cancelled types before sending anything, saying the API refuses them', async () => {
    const before = session.emulator.store.records().length;
    for (const type of ['batch.cancelled', 'interaction.cancelled']) {
      const result = await session.run(['create', '--uri', 'https://hooks.example.com/c', '--events', `batch.succeeded,${type}`]);
      expect(result.code).toBe(ExitCode.USAGE);
      expect(result.stderr).toContain(`--events: "${type}" cannot be subscribed to: the API accepts only its 7 event types`);
      expect(result.stderr).toMatch(/Subscribe to: batch\.succeeded, batch\.expired/);
    }
    expect(session.emulator.store.records()).toHaveLength(before);
    const forced = await session.run(['create', '--uri', 'https://hooks.example.com/c', '--events', 'batch.cancelled', '--allow-unknown-events']);
    expect(forced.stderr).toMatch(/warning: --events: "batch.cancelled" was refused by the live API/);
    expect(forced.code).toBe(ExitCode.API);
  });

  it('refuses a uri that is not an http(s) URL', async () => {
    const result = await session.run(['create', '--uri', 'hooks.example.com', '--events', 'batch.succeeded']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toMatch(/--uri: "hooks.example.com" is not a URL/);
  });

  it('exits 4 with the ways to set a key when there is none', async () => {
    const result = await session.run(['create', '--uri', 'https://hooks.example.com/g', '--events', 'batch.succeeded'], {
      env: { GEMINI_API_KEY: undefined },
    });
    // A local API root needs no key, so gemwh sent one by itself; this emulator wants its own.
    expect(result.code).toBe(ExitCode.AUTH);
    expect(result.stderr).toMatch(/API key not valid/);
    expect(result.stderr).toContain('gemwh auth login');
    expect(result.stderr).toMatch(/emulator accepts any key unless it was started with --api-key/);
  });

  it('exits 4 when the API refuses the key', async () => {
    const result = await session.run(['create', '--uri', 'https://hooks.example.com/g', '--events', 'batch.succeeded'], {
      env: { GEMINI_API_KEY: 'wrong-key-0000000000' },
    });
    expect(result.code).toBe(ExitCode.AUTH);
    expect(result.stderr).not.toContain('wrong-key-0000000000');
  });

  it.each(['create'])('gemwh %s --help ends with real examples', async (command) => {
    const examples = await helpExamples(command.split(' '));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) expect(example).toContain(command.split(' ').at(-1));
  });
});
