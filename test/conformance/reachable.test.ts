import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkReachable } from '../../src/conformance/send.js';
import { NetworkError } from '../../src/errors.js';
import { closedPort } from '../helpers/loopback.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function listening(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function failure(url: string, insecure = false): Promise<NetworkError> {
  const error = await checkReachable(new URL(url), 2000, insecure).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(NetworkError);
  return error as NetworkError;
}

describe('checkReachable says what is wrong, not always "start your receiver"', () => {
  it('asks to start the receiver when nothing listens', async () => {
    const error = await failure(`http://127.0.0.1:${await closedPort()}/hook`);
    expect(error.hint).toMatch(/Start your webhook receiver first/);
  });

  it.each([false, true])('says an https URL names a plain-HTTP receiver (--insecure %s)', async (insecure) => {
    const port = await listening(createHttpServer((_req, res) => res.end('ok')));
    const error = await failure(`https://127.0.0.1:${port}/hook`, insecure);
    expect(error.message).toMatch(/speaks plain HTTP: use http:\/\//);
    expect(error.hint).toContain(`http://127.0.0.1:${port}/hook`);
    expect(error.hint).not.toMatch(/Start your|--insecure/);
  });

  it('does not ask to start a receiver that took the connection and dropped it', async () => {
    const port = await listening(createTcpServer((socket) => socket.destroy()));
    const error = await failure(`https://127.0.0.1:${port}/hook`);
    expect(error.hint).not.toMatch(/Start your/);
    expect(error.hint).toMatch(/took the connection/);
  });
});
