import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../../src/program.js';
import { makeTestDeps, runGemwh } from '../helpers/deps.js';
import { startListenCli, type Line, type ListenCli } from '../helpers/listen-cli.js';
import { perTest } from '../helpers/per-test.js';
import { isAlive, makeStandins, type Standins } from './standins.js';

/**
 * `listen --tunnel` end to end, in-process against the emulator, with stand-ins for the tools
 * that print exactly their documented output and relay HTTP over loopback.
 */

const { defer, emulator: startEmulator, sink } = perTest();

function standins(): Standins {
  const s = makeStandins();
  defer(() => s.cleanup());
  return s;
}

async function listenWithTunnel(args: string[], env: Record<string, string>): Promise<ListenCli & { ready: Line }> {
  const listen = await startListenCli(args, { defer, env });
  const ready = await listen.waitFor((line) => line.type === 'ready', 'the ready line', 20_000);
  return { ...listen, ready };
}

const warnings = (listen: ListenCli) => listen.lines().filter((line) => line.type === 'warning').map((line) => String(line.message));

describe('gemwh listen --tunnel', () => {
  it('cloudflared: finds the URL, creates the webhook for it, a trigger travels through the tunnel; restarted with a new URL the webhook follows; nothing is left on SIGTERM', async () => {
    const tools = standins();
    const emulator = await startEmulator();
    const app = await sink();
    const listen = await listenWithTunnel(['--tunnel', 'cloudflared', '--forward', app.url, '--path', '/hook', '--ready-file', join(tools.stateDir, '..', 'ready')], {
      ...emulator.env,
      PATH: tools.path,
      STANDIN_STATE_DIR: tools.stateDir,
    });
    const [first] = tools.running();
    expect(first!.tool).toBe('cloudflared');
    const publicUrl = `${first!.url}/hook`;
    // The pid file the next start uses if this gemwh is killed with SIGKILL.
    const [pidFile] = readdirSync(join(listen.t.deps.paths.state, 'tunnels'));
    expect(JSON.parse(readFileSync(join(listen.t.deps.paths.state, 'tunnels', pidFile!), 'utf8'))).toMatchObject({ owner: process.pid, child: first!.pid });
    expect(listen.ready.publicUrl).toBe(publicUrl);
    expect(readFileSync(join(tools.stateDir, '..', 'ready'), 'utf8')).toBe(`${String(listen.ready.url)}\n${publicUrl}\n`);
    const [record] = emulator.store.records();
    expect(record!.uri).toBe(publicUrl);
    expect(record!.name).toMatch(/^gemwh-listen-/);
    expect(listen.ready.verifying).toMatchObject({ webhookIds: [record!.id] });
    expect(listen.t.stderr()).toContain(`"webhook_config": {"uris": ["${publicUrl}"]}`);
    // The probes through the tunnel were answered by the listener itself: no request event, nothing journaled.
    expect(listen.lines().filter((line) => line.type === 'received')).toEqual([]);
    expect(existsSync(listen.journal) ? readFileSync(listen.journal, 'utf8') : '').toBe('');

    expect((await runGemwh(['trigger', 'batch.succeeded', '--wait'], { env: emulator.env })).code).toBe(0);
    await listen.waitFor((line) => line.type === 'forwarded', 'the delivery forwarded to the app');
    expect(listen.lines().find((line) => line.type === 'verified')).toMatchObject({ scheme: 'static', matched: { label: record!.id } });
    expect(app.requests).toHaveLength(1);

    // The tool dies: listen says so, starts it again, and the same webhook moves to the new URL.
    process.kill(first!.pid, 'SIGKILL');
    await listen.waitFor((line) => line.type === 'warning' && /tunnel down: cloudflared killed by SIGKILL/.test(String(line.message)), 'the tunnel-down warning');
    await listen.waitFor((line) => line.type === 'warning' && /back up at a new URL/.test(String(line.message)), 'the tunnel back up', 20_000);
    const [second] = tools.running();
    expect(second!.pid).not.toBe(first!.pid);
    expect(emulator.store.records()).toEqual([expect.objectContaining({ id: record!.id, uri: `${second!.url}/hook` })]);
    expect(warnings(listen).some((w) => w.includes(`now delivers to ${second!.url}/hook`))).toBe(true);
    expect(listen.t.stderr()).toMatch(/tunnel down: cloudflared killed by SIGKILL; restarting cloudflared in/);

    expect((await runGemwh(['trigger', 'batch.succeeded', '--wait'], { env: emulator.env })).code).toBe(0);
    await listen.until('the second delivery forwarded', () => (app.requests.length === 2 ? true : undefined));

    expect(await listen.stop()).toBe(0);
    expect(emulator.store.records()).toEqual([]);
    expect(tools.running()).toEqual([]);
  });

  it('ngrok: the URL from the local API alone (no "started tunnel" line) works the same', async () => {
    const tools = standins();
    const emulator = await startEmulator();
    const listen = await listenWithTunnel(['--tunnel', 'ngrok', '--secret-env', 'NONE_SET_X', '--events', 'batch.*'], {
      ...emulator.env,
      PATH: tools.path,
      STANDIN_STATE_DIR: tools.stateDir,
      STANDIN_NGROK_API_ONLY: '1',
      NONE_SET_X: 'whsec_' + Buffer.alloc(24, 9).toString('base64'),
    });
    const [running] = tools.running();
    expect(running!.tool).toBe('ngrok');
    expect(listen.ready.publicUrl).toBe(`${running!.url}/`);
    expect(emulator.store.records()[0]!.subscribed_events.every((type) => type.startsWith('batch.'))).toBe(true);
    expect(await listen.stop()).toBe(0);
    expect(tools.running()).toEqual([]);
    expect(emulator.store.records()).toEqual([]);
  });

  it('a URL that stops answering is reported at once and the tool restarted', async () => {
    const tools = standins();
    const emulator = await startEmulator();
    const listen = await listenWithTunnel(['--tunnel', 'auto', '--tunnel-check-interval', '100ms'], { ...emulator.env, PATH: tools.path, STANDIN_STATE_DIR: tools.stateDir });
    const [first] = tools.running();
    expect(first!.tool).toBe('cloudflared'); // auto prefers cloudflared: no account needed
    process.kill(first!.pid, 'SIGUSR1');
    const down = await listen.waitFor((line) => line.type === 'warning' && /tunnel down/.test(String(line.message)), 'the tunnel-down warning', 10_000);
    expect(String(down.message)).toMatch(/stopped answering \(it answered HTTP 502/);
    await listen.waitFor((line) => line.type === 'warning' && /back up/.test(String(line.message)), 'the tunnel back up', 20_000);
    expect(isAlive(first!.pid)).toBe(false);
    expect(emulator.store.records()[0]!.uri).toBe(`${tools.running()[0]!.url}/`);
    expect(await listen.stop()).toBe(0);
  });

  it('--tunnel-command with --tunnel-url-pattern: starts the command with {port} and takes the matching URL', async () => {
    const tools = standins();
    const emulator = await startEmulator();
    const listen = await listenWithTunnel(['--tunnel-command', 'fake-tunnel --port {port}', '--tunnel-url-pattern', 'url is: (http://127\\.0\\.0\\.1:\\d+)'], {
      ...emulator.env,
      PATH: tools.path,
      STANDIN_STATE_DIR: tools.stateDir,
    });
    const [running] = tools.running();
    expect(running!.tool).toBe('fake-tunnel');
    expect(listen.ready.publicUrl).toBe(`${running!.url}/`);
    expect(await listen.stop()).toBe(0);
    expect(tools.running()).toEqual([]);
  });
});

describe('gemwh listen --public-url', () => {
  it('the ready record and the second line of --ready-file carry the public URL', async () => {
    const emulator = await startEmulator();
    const dir = mkdtempSync(join(tmpdir(), 'gemwh-ready-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const readyFile = join(dir, 'ready');
    const listen = await startListenCli(['--public-url', 'https://tunnel.example.com/hook', '--ready-file', readyFile], { defer, env: emulator.env });
    const ready = await listen.waitFor((line) => line.type === 'ready', 'the ready line');
    expect(ready.publicUrl).toBe('https://tunnel.example.com/hook');
    expect(readFileSync(readyFile, 'utf8')).toBe(`${String(ready.url)}\nhttps://tunnel.example.com/hook\n`);
    expect(await listen.stop()).toBe(0);
  });
});

describe('gemwh listen --tunnel: stopped while the tunnel starts', () => {
  it('SIGTERM before the URL is known: exit 130, the tool stopped, no webhook', async () => {
    const tools = standins();
    const emulator = await startEmulator();
    const listen = await startListenCli(['--tunnel', 'cloudflared'], { defer, env: { ...emulator.env, PATH: tools.path, STANDIN_STATE_DIR: tools.stateDir, STANDIN_SILENT: '1' } });
    const [running] = await listen.until('the stand-in running', () => (tools.running().length > 0 ? tools.running() : undefined), 10_000);
    expect(await listen.stop()).toBe(130);
    expect(isAlive(running!.pid)).toBe(false);
    expect(emulator.store.records()).toEqual([]);
  });
});

describe('gemwh listen --tunnel: clear errors, nothing created', () => {
  async function fails(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
    const t = makeTestDeps({ env });
    defer(() => t.cleanup());
    const code = await runMain(['listen', '--port', '0', '--no-journal', ...args], t.deps);
    return { code, stderr: t.stderr() };
  }

  it('the tool is not installed: exit 2 and how to install it', async () => {
    const emulator = await startEmulator();
    const { code, stderr } = await fails(['--tunnel', 'cloudflared'], { ...emulator.env, PATH: '/nonexistent' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/cloudflared is not installed/);
    expect(stderr).toMatch(/brew install cloudflared/);
    const auto = await fails(['--tunnel', 'auto'], { ...emulator.env, PATH: '/nonexistent' });
    expect(auto.stderr).toMatch(/neither cloudflared nor ngrok/);
    expect(auto.stderr).toMatch(/ngrok\.com\/download/);
    expect(emulator.store.records()).toEqual([]);
  });

  it('ngrok without an auth token: the way out, and no tunnel or webhook left', async () => {
    const tools = standins();
    const emulator = await startEmulator();
    const { code, stderr } = await fails(['--tunnel', 'ngrok'], { ...emulator.env, PATH: tools.path, STANDIN_STATE_DIR: tools.stateDir, STANDIN_NGROK_NO_AUTHTOKEN: '1' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/no valid auth token/);
    expect(stderr).toMatch(/ngrok config add-authtoken/);
    expect(emulator.store.records()).toEqual([]);
  });

  it('the URL never reaches the listener: what was tried and for how long', async () => {
    const tools = standins();
    const emulator = await startEmulator();
    // The tool prints a URL where nothing answers.
    const { code, stderr } = await fails(['--tunnel-command', "sh -c 'echo https://127.0.0.1:1/ ; sleep 30'", '--tunnel-timeout', '1s'], {
      ...emulator.env,
      PATH: tools.path,
    });
    expect(code).toBe(7);
    expect(stderr).toMatch(/the tunnel never became reachable: https:\/\/127\.0\.0\.1:1\/ did not reach the listener within 1s/);
    expect(stderr).toMatch(/Tried `sh -c .*`, waiting for the first https URL it prints, then \d+ request\(s\)/);
    expect(emulator.store.records()).toEqual([]);
  });

  it('no API key: exit 4 before any tool is started', async () => {
    const tools = standins();
    const emulator = await startEmulator();
    const { code } = await fails(['--tunnel', 'cloudflared'], { GEMWH_API_ROOT: emulator.url, GEMWH_SECRET_STORE: 'file', PATH: tools.path, STANDIN_STATE_DIR: tools.stateDir });
    expect(code).toBe(4);
    expect(tools.started()).toEqual([]);
  });

  it('flag combinations that make no sense are usage errors', async () => {
    for (const args of [
      ['--tunnel', 'localtunnel'],
      ['--tunnel', 'ngrok', '--public-url', 'https://x.example'],
      ['--tunnel', 'ngrok', '--tunnel-command', 'lt --port {port}'],
      ['--tunnel-url-pattern', 'x'],
      ['--tunnel-command', 'lt', '--tunnel-url-pattern', '(['],
      ['--tunnel', 'ngrok', '--emulator'],
    ]) {
      const { code, stderr } = await fails(args, {});
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).not.toMatch(/\n\s+at /);
    }
  });
});
