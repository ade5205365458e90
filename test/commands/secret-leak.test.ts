import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../helpers/deps.js';
import { startManageSession, type ManageSession } from './manage-session.js';

/**
 * Runs the commands that handle secrets and the API key, on a terminal and piped, in every
 * output format, and fails if a full secret or the key shows up anywhere in what they print.
 */
describe('no command leaks a secret or the API key', () => {
  let session: ManageSession;
  const outputs: Array<{ args: string[]; result: RunResult }> = [];
  beforeAll(async () => {
    session = await startManageSession();
  });
  afterAll(() => session.stop());

  async function run(args: string[], options: Parameters<ManageSession['run']>[1] = {}) {
    const result = await session.run(args, options);
    outputs.push({ args, result });
    return result;
  }

  /** Every full secret the service ever handed out, plus the API keys in play. */
  const everySecret = new Set<string>();
  const remember = () => {
    for (const record of session.emulator.store.records()) for (const s of record.secrets) everySecret.add(s.secret);
  };

  it('runs create, rotate, list, get, update, secret list/show, auth status', async () => {
    const created = await run(['create', '--uri', 'https://hooks.example.com/leak', '--events', 'batch.succeeded', '--name', 'leak']);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    await run(['create', '--uri', 'https://hooks.example.com/leak2', '--events', 'video.generated', '--json']);
    await run(['create', '--uri', 'https://hooks.example.com/leak3', '--events', 'batch.failed'], { stdoutIsTTY: true });
    remember();
    await run(['rotate', id]);
    await run(['rotate', id, '--json']);
    remember();
    await run(['rotate', id, '--grace', '0'], { stdoutIsTTY: true });
    remember();
    for (const tty of [false, true]) {
      await run(['list'], { stdoutIsTTY: tty });
      await run(['get', id], { stdoutIsTTY: tty });
      await run(['secret', 'list'], { stdoutIsTTY: tty });
      await run(['secret', 'show', id], { stdoutIsTTY: tty });
      await run(['auth', 'status'], { stdoutIsTTY: tty });
    }
    for (const args of [['list'], ['get', id], ['secret', 'list'], ['secret', 'show', id], ['auth', 'status'], ['update', id, '--name', 'renamed']]) {
      await run([...args, '--json']);
    }
    await run(['--api-key', 'AIzaSyWRONG-key-0123456789', 'list']);
    await run(['--api-key', 'AIzaSyWRONG-key-0123456789', 'auth', 'status', '--json']);
    await run(['auth', 'login'], { stdin: session.emulator.apiKey });
    await run(['auth', 'status'], { env: { GEMINI_API_KEY: undefined } });
    await run(['auth', 'logout']);
    remember();
    expect(everySecret.size).toBeGreaterThanOrEqual(6);
    expect(outputs.length).toBeGreaterThan(20);
  });

  it('printed none of them', () => {
    const forbidden = [...everySecret, session.emulator.apiKey, 'AIzaSyWRONG-key-0123456789'];
    for (const { args, result } of outputs) {
      for (const value of forbidden) {
        expect(result.stdout, `stdout of gemwh ${args.join(' ')}`).not.toContain(value);
        expect(result.stderr, `stderr of gemwh ${args.join(' ')}`).not.toContain(value);
        // Nor the base64 body alone, which is the key material itself.
        if (value.startsWith('whsec_')) expect(result.stdout + result.stderr).not.toContain(value.slice('whsec_'.length));
      }
    }
  });

  it('still prints a secret when asked to: --print-secret and secret show --reveal', async () => {
    const printed = await session.run(['create', '--uri', 'https://hooks.example.com/shown', '--events', 'batch.succeeded', '--print-secret']);
    const [record] = session.emulator.store.records().slice(-1);
    expect(printed.stdout).toBe(`${record!.secrets[0]!.secret}\n`);
    const shown = await session.run(['secret', 'show', record!.id, '--reveal']);
    expect(shown.stdout).toBe(`${record!.secrets[0]!.secret}\n`);
  });
});
