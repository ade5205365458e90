import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { createdId, startManageSession, type ManageSession, helpExamples } from './manage-session.js';

describe('gemwh list', () => {
  let session: ManageSession;
  let mine: string;
  let foreign: string[];
  beforeAll(async () => {
    session = await startManageSession();
    mine = createdId(await session.run(['create', '--uri', 'https://hooks.example.com/mine', '--events', 'batch.succeeded', '--name', 'mine']));
    // Made elsewhere (another machine, the console): the API knows them, gemwh holds no secret.
    foreign = [
      session.emulator.store.create({ uri: 'https://hooks.example.com/x', subscribed_events: ['video.generated'] }).id,
      session.emulator.store.create({ uri: 'https://hooks.example.com/y', subscribed_events: ['interaction.failed', 'batch.failed'], name: 'y' }).id,
    ];
  });
  afterAll(() => session.stop());

  it('prints an aligned table on a terminal, saying which secrets gemwh holds', async () => {
    const result = await session.run(['list'], { stdoutIsTTY: true, stdoutColumns: 200 });
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATE\s+EVENTS\s+URI\s+SECRETS\s+LOCAL SECRET$/);
    expect(lines).toHaveLength(4);
    expect(result.stdout).not.toContain('\t');
    const mineLine = lines.find((l) => l.startsWith(mine))!;
    expect(mineLine).toMatch(/\bmine\s+enabled\s+batch\.succeeded\s+https:\/\/hooks\.example\.com\/mine\s+whsec_\S+\s+yes$/);
    const foreignLine = lines.find((l) => l.startsWith(foreign[1]!))!;
    expect(foreignLine).toMatch(/interaction\.failed,batch\.failed .*\bno$/);
    // Columns line up: every row has the URI column starting where the header's does.
    const uriColumn = lines[0]!.indexOf('URI');
    for (const line of lines.slice(1)) expect(line.slice(uriColumn)).toMatch(/^https:\/\//);
  });

  for (const width of [80, 120]) {
    it(`fits a ${width}-column terminal, ids whole`, async () => {
      const result = await session.run(['list'], { stdoutIsTTY: true, stdoutColumns: width });
      expect(result.code).toBe(0);
      const lines = result.stdout.trimEnd().split('\n');
      for (const line of lines) expect([...line].length).toBeLessThanOrEqual(width);
      expect(result.stdout).toContain(mine);
    });
  }

  it('prints TSV with a header when piped', async () => {
    const result = await session.run(['list']);
    expect(result.code).toBe(0);
    const rows = result.stdout.trimEnd().split('\n').map((line) => line.split('\t'));
    expect(rows[0]).toEqual(['ID', 'NAME', 'STATE', 'EVENTS', 'URI', 'SECRETS', 'LOCAL SECRET']);
    expect(rows.slice(1).map((r) => r[0])).toEqual([mine, ...foreign]);
    expect(rows[1]).toEqual([mine, 'mine', 'enabled', 'batch.succeeded', 'https://hooks.example.com/mine', expect.stringMatching(/^whsec_/), 'yes']);
    expect(rows[2]![1]).toBe('-');
  });

  it('prints JSON with --json whatever the terminal, with localSecrets per webhook', async () => {
    const result = await session.run(['list', '--json'], { stdoutIsTTY: true });
    const json = JSON.parse(result.stdout);
    expect(json.webhooks.map((w: { id: string }) => w.id)).toEqual([mine, ...foreign]);
    expect(json.webhooks.map((w: { localSecrets: number }) => w.localSecrets)).toEqual([1, 0, 0]);
    expect(json.next_page_token).toBeUndefined();
  });

  it('shows one page with a note on stderr when there are more, and all of them with --all', async () => {
    const page = await session.run(['list', '--page-size', '2', '--json']);
    const json = JSON.parse(page.stdout);
    expect(json.webhooks).toHaveLength(2);
    expect(json.next_page_token).toEqual(expect.any(String));
    expect(page.stderr).toMatch(/run with --all/);

    const all = await session.run(['list', '--page-size', '2', '--all']);
    expect(all.stdout.trimEnd().split('\n')).toHaveLength(4);
    expect(all.stderr).not.toMatch(/--all/);
  });

  it('rejects a page size the API does not accept', async () => {
    const result = await session.run(['list', '--page-size', '0']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toMatch(/--page-size must be a whole number from 1 to 1000/);
  });

  it('still lists when the secret store is unusable, with ? for the local column and a warning', async () => {
    const file = join(session.paths.config, 'secrets.json');
    const intact = readFileSync(file, 'utf8');
    writeFileSync(file, '{ damaged');
    try {
      const result = await session.run(['list']);
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/cannot tell which secrets gemwh holds: the secrets file .* is not valid gemwh JSON/);
      expect(result.stdout.split('\n')[1]!.split('\t').at(-1)).toBe('?');
    } finally {
      writeFileSync(file, intact);
    }
  });

  it('exits 7 with the address when the API cannot be reached', async () => {
    const result = await session.run(['list'], { env: { GEMWH_API_ROOT: 'http://127.0.0.1:9' } });
    expect(result.code).toBe(ExitCode.NETWORK);
    expect(result.stderr).toContain('127.0.0.1:9');
    expect(result.stdout).toBe('');
  });

  it.each(['list'])('gemwh %s --help ends with real examples', async (command) => {
    const examples = await helpExamples(command.split(' '));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) expect(example).toContain(command.split(' ').at(-1));
  });
});
