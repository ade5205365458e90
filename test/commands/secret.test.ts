import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { closedPort } from '../helpers/loopback.js';
import { startManageSession, type ManageSession, helpExamples } from './manage-session.js';

const SECRET_A = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRET_B = 'whsec_c2Vjb25kIHNlY3JldCBmb3IgdGVzdHMh';

describe('gemwh secret', () => {
  let session: ManageSession;
  // These webhooks exist only in the store: the API is unreachable, so `secret set` warns and stores.
  let offline: { GEMWH_API_ROOT: string };
  beforeAll(async () => {
    session = await startManageSession();
    offline = { GEMWH_API_ROOT: `http://127.0.0.1:${await closedPort()}` };
  });
  afterAll(() => session.stop());

  it('sets a secret from stdin and shows it redacted', async () => {
    const set = await session.run(['secret', 'set', 'wh1'], { stdin: `${SECRET_A}\n`, env: offline });
    expect(set.code).toBe(0);
    expect(set.stderr).toMatch(/Stored the signing secret whsec_…LaSw of webhook wh1 in file /);
    expect(set.stdout + set.stderr).not.toContain(SECRET_A);

    const show = await session.run(['secret', 'show', 'wh1'], { stdoutIsTTY: true });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^WEBHOOK\s+SECRET\s+STATUS\s+CREATED\s+EXPIRES\nwh1\s+whsec_…LaSw\s+current\s+now\s+-\n$/);
    expect(show.stdout + show.stderr).not.toContain(SECRET_A);
    expect(show.stderr).toMatch(/add --reveal/);
  });

  it('reveals the values alone when piped with --reveal, and in JSON with --json --reveal', async () => {
    const piped = await session.run(['secret', 'show', 'wh1', '--reveal']);
    expect(piped.stdout).toBe(`${SECRET_A}\n`);
    const json = JSON.parse((await session.run(['secret', 'show', 'wh1', '--reveal', '--json'])).stdout);
    expect(json).toEqual({ id: 'wh1', secrets: [{ secret: SECRET_A, createdAt: expect.any(String), expiresAt: null, status: 'current' }] });
    const redacted = JSON.parse((await session.run(['secret', 'show', 'wh1', '--json'])).stdout);
    expect(redacted.secrets[0].secret).toBe('whsec_…LaSw');
  });

  it('lists every webhook with counts as a table, TSV and JSON, secrets redacted', async () => {
    await session.run(['secret', 'set', 'wh2'], { stdin: SECRET_B, env: offline });
    const tsv = await session.run(['secret', 'list']);
    expect(tsv.stdout.split('\n')[0]).toBe('WEBHOOK\tSECRET\tSTATUS\tCREATED\tEXPIRES');
    expect(tsv.stdout.trimEnd().split('\n').slice(1).map((l) => l.split('\t').slice(0, 3))).toEqual([
      ['wh1', 'whsec_…LaSw', 'current'],
      ['wh2', 'whsec_…dHMh', 'current'],
    ]);
    expect(tsv.stderr).toMatch(/2 secrets for 2 webhooks in file /);
    const json = JSON.parse((await session.run(['secret', 'list', '--json'])).stdout);
    expect(json.store).toBe('file');
    expect(json.webhooks.map((w: { id: string; count: number }) => [w.id, w.count])).toEqual([
      ['wh1', 1],
      ['wh2', 1],
    ]);
    const everything = tsv.stdout + tsv.stderr + JSON.stringify(json);
    expect(everything).not.toContain(SECRET_A);
    expect(everything).not.toContain(SECRET_B);
  });

  it('refuses a value that is not a whsec_ secret, saying what is wrong', async () => {
    const signature = await session.run(['secret', 'set', 'wh3'], { stdin: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=', env: offline });
    expect(signature.code).toBe(ExitCode.USAGE);
    expect(signature.stderr).toMatch(/a signature .* not a signing secret/);
    const truncated = await session.run(['secret', 'set', 'wh3'], { stdin: 'whsec_...3frh', env: offline });
    expect(truncated.stderr).toMatch(/truncated secret/);
    const empty = await session.run(['secret', 'set', 'wh3'], { stdin: '', env: offline });
    expect(empty.code).toBe(ExitCode.USAGE);
    // Nothing was stored: exit 8 (the store holds no such secret), as replay --webhook and listen --webhook say it.
    const show = await session.run(['secret', 'show', 'wh3']);
    expect(show.code).toBe(ExitCode.SECRET_STORE);
    expect(show.stderr).toMatch(/^gemwh: file \/.*secrets\.json holds no secret for webhook wh3$/m);
    expect(show.stderr).toMatch(/gemwh secret list/);
  });

  it('deletes the local secrets, and says so when there are none', async () => {
    const deleted = await session.run(['secret', 'delete', 'wh2', '--json']);
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ id: 'wh2', deleted: true });
    const again = await session.run(['secret', 'delete', 'wh2']);
    expect(again.code).toBe(ExitCode.SECRET_STORE);
    expect(again.stderr).toMatch(/holds no secret for webhook wh2/);
    expect(again.stderr).toMatch(/gemwh secret list/);
    expect(again.stderr).toMatch(/gemwh secret set wh2/);
  });

  it('replaces what it held on set', async () => {
    await session.run(['secret', 'set', 'wh1'], { stdin: SECRET_B, env: offline });
    expect((await session.run(['secret', 'show', 'wh1', '--reveal'])).stdout).toBe(`${SECRET_B}\n`);
  });

  it.each(['secret', 'secret list', 'secret show', 'secret set', 'secret delete'])('gemwh %s --help ends with real examples', async (command) => {
    const examples = await helpExamples(command.split(' '));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) expect(example).toContain(command.split(' ').at(-1));
  });
});
