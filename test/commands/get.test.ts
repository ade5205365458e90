import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { createdId, startManageSession, type ManageSession, helpExamples } from './manage-session.js';

describe('gemwh get', () => {
  let session: ManageSession;
  let id: string;
  beforeAll(async () => {
    session = await startManageSession();
    id = createdId(await session.run(['create', '--uri', 'https://hooks.example.com/g', '--events', 'batch.succeeded,video.generated', '--name', 'getme']));
  });
  afterAll(() => session.stop());

  it('shows the fields aligned on a terminal, without timestamps the API does not send', async () => {
    const result = await session.run(['get', id], { stdoutIsTTY: true });
    expect(result.code).toBe(0);
    const fields = Object.fromEntries(result.stdout.trimEnd().split('\n').map((line) => [line.slice(0, 12).trim(), line.slice(14)]));
    expect(fields).toMatchObject({
      id,
      name: 'getme',
      state: 'enabled',
      uri: 'https://hooks.example.com/g',
      events: 'batch.succeeded, video.generated',
      'local secret': expect.stringMatching(/^1 secret in file .*secrets\.json$/),
    });
    expect(fields).not.toHaveProperty('created');
    expect(fields).not.toHaveProperty('updated');
    expect(fields.secrets).toMatch(/^whsec_/);
  });

  it('prints field<TAB>value lines when piped, no empty timestamp lines', async () => {
    const result = await session.run(['get', id]);
    const lines = result.stdout.trimEnd().split('\n').map((line) => line.split('\t'));
    expect(lines[0]).toEqual(['id', id]);
    expect(lines.map((l) => l[0])).toEqual(['id', 'name', 'state', 'uri', 'events', 'secrets', 'local secret']);
    expect(lines.every((l) => l.length === 2 && l[1] !== '' && l[1] !== '-')).toBe(true);
  });

  it('prints the webhook as JSON with --json', async () => {
    const result = await session.run(['get', id, '--json']);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({ id, name: 'getme', subscribed_events: ['batch.succeeded', 'video.generated'], localSecrets: 1 });
    expect(json.signing_secrets).toHaveLength(1);
  });

  it('exits 5 for an unknown id, with nothing on stdout', async () => {
    const result = await session.run(['get', 'nosuchwebhook0000000000000000000000']);
    expect(result.code).toBe(ExitCode.NOT_FOUND);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/nosuchwebhook/);
  });

  it('prints a JSON error on stderr with --json', async () => {
    const result = await session.run(['get', 'nosuchwebhook0000000000000000000000', '--json']);
    expect(result.code).toBe(ExitCode.NOT_FOUND);
    expect(JSON.parse(result.stderr).error).toMatchObject({ code: 'not_found', exitCode: 5 });
  });

  it('refuses an id that would change the request path', async () => {
    const result = await session.run(['get', '../webhooks']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toMatch(/is not a webhook id/);
  });

  it.each(['get'])('gemwh %s --help ends with real examples', async (command) => {
    const examples = await helpExamples(command.split(' '));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) expect(example).toContain(command.split(' ').at(-1));
  });
});
