import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTarget } from '../../src/flags/target.js';
import { body, signedHeaders, startTestSession } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function recordingServer(): Promise<{ port: number; paths: string[] }> {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    req.resume().on('end', () => res.end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { port: (server.address() as AddressInfo).port, paths };
}

/** Sends one request exactly as written (request line included) and resolves with the status the listener answered. */
function rawPost(port: number, requestTarget: string, raw: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (status && answer.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(Number(status[1]));
      }
    });
    socket.on('error', reject);
    const lines = [`POST ${requestTarget} HTTP/1.1`, 'Host: 127.0.0.1', `Content-Length: ${Buffer.byteLength(raw)}`, 'Connection: close'];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    socket.end(`${lines.join('\r\n')}\r\n\r\n${raw}`);
  });
}

describe('listen forwards to the configured target only', () => {
  it('whatever the (unsigned) request line says', async () => {
    const app = await recordingServer();
    const elsewhere = await recordingServer();
    const other = `127.0.0.1:${elsewhere.port}`;
    const t = await startTestSession({ forward: [parseTarget(`127.0.0.1:${app.port}`)], noJournal: true });
    cleanups.push(() => t.stop());
    const port = Number(new URL(t.session.url).port);
    const requestTargets = [
      `/\\${other}/x`,
      `/\\\\${other}/x`,
      `//${other}/x`,
      `///${other}/x`,
      `/%2f%2f${other}/x`,
      `/%5c${other}/x`,
      `/@${other}/x`,
      `/x/..//${other}/x`,
      `/../../${other}/x`,
      `/%2e%2e/%2e%2e/${other}/x`,
      `http://${other}/x`,
      `http://${other}`,
      `http://user@${other}/x?q=1`,
      `//${other}\\@127.0.0.1:${app.port}/x`,
    ];
    let accepted = 0;
    for (const requestTarget of requestTargets) {
      const raw = body('batch.succeeded', `batch_${accepted}`);
      const status = await rawPost(port, requestTarget, raw, signedHeaders(raw));
      if (status === 200) accepted += 1;
      else expect(status, requestTarget).toBeGreaterThanOrEqual(400);
    }
    // Node refuses none of these request lines: each one is a test of the target joining.
    expect(accepted).toBe(requestTargets.length);
    for (let i = 0; i < accepted; i++) await t.waitFor('forwarded', (e) => e.seq === i + 1);
    expect(elsewhere.paths).toEqual([]);
    expect(app.paths).toHaveLength(accepted);
    expect(t.events.filter((e) => e.type === 'forwarded').every((e) => e.type === 'forwarded' && new URL(e.target).port === String(app.port))).toBe(true);
  });
});
