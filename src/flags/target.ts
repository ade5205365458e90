import type { Target } from '../core/target.js';
import { UsageError } from '../errors.js';

/** `--to`, `--forward`, a conformance URL: PORT, PORT/PATH, HOST:PORT[/PATH] or a full URL. */
const FORMS_HINT =
  'Give a port (3000), port/path (3000/webhook), host:port[/path] (localhost:3000/webhook, 127.0.0.1:8080) or a full URL (https://example.com/hook).';

export function parseTarget(input: string): Target {
  const raw = input.trim();
  if (raw === '') throw new UsageError('the target is empty', { hint: FORMS_HINT });

  // A bare port is the common case when testing a local app; `localhost` lets Node try both
  // 127.0.0.1 and ::1, as dev servers differ in which one they bind.
  const bare = /^:?(\d+)$/.exec(raw);
  if (bare) return { url: new URL(`http://localhost:${checkPort(bare[1] ?? '', raw)}/`), hasPath: false };
  // `8787/hook`: a port and a path, the short form of localhost:8787/hook.
  const portAndPath = /^:?(\d+)(\/.*)$/.exec(raw);
  if (portAndPath) return parseTarget(`localhost:${checkPort(portAndPath[1] ?? '', raw)}${portAndPath[2]}`);

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw);
  let withScheme: string;
  if (scheme) {
    const name = (scheme[1] ?? '').toLowerCase();
    if (name !== 'http' && name !== 'https') {
      throw new UsageError(`unsupported scheme "${name}:" in target "${raw}"`, {
        hint: 'Webhooks are delivered over HTTP: use http:// or https://.',
      });
    }
    withScheme = raw;
  } else {
    // Without a scheme a port is required: "localhost/hook" or "example.com" are more likely
    // typos than a wish to post to port 80 over plain HTTP.
    if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d+([/?].*)?$/.test(raw)) {
      throw new UsageError(`cannot read target "${raw}"`, { hint: FORMS_HINT });
    }
    withScheme = `http://${raw}`;
  }

  const afterScheme = withScheme.slice(withScheme.indexOf('://') + 3);
  const authorityEnd = afterScheme.search(/[/?#]/);
  const authority = authorityEnd === -1 ? afterScheme : afterScheme.slice(0, authorityEnd);
  const rest = authorityEnd === -1 ? '' : afterScheme.slice(authorityEnd);
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const portMatch = /:(\d*)$/.exec(hostPort.endsWith(']') ? '' : hostPort);
  if (portMatch) checkPort(portMatch[1] ?? '', raw);

  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`"${raw}" is not a valid URL`, { hint: FORMS_HINT });
  }
  if (url.hostname === '') throw new UsageError(`target "${raw}" has no host`, { hint: FORMS_HINT });
  if (url.hash !== '') {
    throw new UsageError(`target "${raw}" has a #fragment, which is never sent to a server`, {
      hint: 'Remove the part from # on.',
    });
  }
  return { url, hasPath: rest !== '' };
}

function checkPort(digits: string, raw: string): number {
  const port = Number(digits);
  if (digits === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`port ${digits === '' ? '(empty)' : digits} in target "${raw}" is out of range`, {
      hint: 'A port is a number from 1 to 65535.',
    });
  }
  return port;
}
