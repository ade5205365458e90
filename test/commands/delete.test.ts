import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { createdId, startManageSession, type ManageSession, helpExamples } from './manage-session.js';

describe('gemwh delete', () => {
  let session: ManageSession;
  beforeAll(async () => {
    session = await startManageSession();
  });
  afterAll(() => session.stop());

  const create = async () => createdId(await session.run(['create', '--uri', 'https://hooks.example.com/d', '--events', 'batch.succeeded']));
  const localIds = () => Object.keys(JSON.parse(readFileSync(join(session.paths.config, 'secrets.json'), 'utf8')).webhooks);
  const exists = (id: string) => session.emulator.store.list({}).webhooks?.some((w) => w.id === id) ?? false;

  it('requires --yes when there is no terminal to ask on', async () => {
    const id = await create();
    const result = await session.run(['delete', id]);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain(`gemwh delete ${id} --yes`);
    expect(exists(id)).toBe(true);
  });

  it('deletes with --yes and removes the local secrets too', async () => {
    const id = await create();
    expect(localIds()).toContain(id);
    const result = await session.run(['delete', id, '--yes', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ id, deleted: true, localSecretsRemoved: true });
    expect(exists(id)).toBe(false);
    expect(localIds()).not.toContain(id);
  });

  it('asks y/N on a terminal and deletes on y', async () => {
    const id = await create();
    const stdin = new PassThrough();
    const running = session.run(['delete', id], { stdin, stdinIsTTY: true });
    setTimeout(() => stdin.write('y\n'), 20);
    const result = await running;
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`Delete webhook ${id} -> https://hooks.example.com/d\\? \\[y/N\\]`));
    expect(exists(id)).toBe(false);
  });

  it('keeps the webhook when the answer is not yes', async () => {
    const id = await create();
    const result = await session.run(['delete', id], { stdin: 'n\n', stdinIsTTY: true });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Not deleted.');
    expect(exists(id)).toBe(true);
    expect(localIds()).toContain(id);
  });

  it('exits 5 for an unknown id', async () => {
    const result = await session.run(['delete', 'nosuchwebhook0000000000000000000000', '--yes']);
    expect(result.code).toBe(ExitCode.NOT_FOUND);
  });

  it.each(['delete'])('gemwh %s --help ends with real examples', async (command) => {
    const examples = await helpExamples(command.split(' '));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) expect(example).toContain(command.split(' ').at(-1));
  });
});
