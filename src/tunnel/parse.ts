/**
 * Reading a tunnel tool's output for its public URL. Each reader is fed the tool's output one
 * line at a time (stdout and stderr alike) and says what it learnt. The formats are the ones the
 * tools document; the versions they were written against are in `gemwh help tunnels` (src/help-topics/tunnels.md).
 */

export type TunnelFinding =
  | { kind: 'url'; url: string }
  /** ngrok's local API address (`starting web service`): where /api/tunnels can be asked. */
  | { kind: 'api'; address: string }
  /** The tool says it cannot work as set up (e.g. ngrok without an auth token): no point retrying. */
  | { kind: 'fatal'; message: string; hint: string }
  | { kind: 'nothing' };

export type LineReader = (line: string) => TunnelFinding;

const NOTHING: TunnelFinding = { kind: 'nothing' };

/**
 * cloudflared quick tunnel (`cloudflared tunnel --url …`), written for 2024.x–2025.x. It logs to
 * stderr, each line prefixed `<time> INF `, and announces the URL in a box:
 *
 *   INF +--------------------------------------------------------------------------------------------+
 *   INF |  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |
 *   INF |  https://seasonal-deck-organisms-sf.trycloudflare.com                                      |
 *   INF +--------------------------------------------------------------------------------------------+
 *
 * The URL is the first box line after the announcement; its other lines (documentation links in
 * the preamble, `Settings: map[… url:http://localhost:8787]`) are not the public URL.
 */
export function cloudflaredReader(): LineReader {
  let announced = false;
  return (line) => {
    if (/Your quick Tunnel has been created/i.test(line)) {
      announced = true;
      return NOTHING;
    }
    if (announced) {
      const boxed = /\|\s*(https?:\/\/\S+?)\s*\|/.exec(line);
      if (boxed) {
        announced = false;
        return { kind: 'url', url: boxed[1]! };
      }
      // The closing border without a URL line: the box ended, keep waiting for another one.
      if (/\+-{8,}\+/.test(line)) announced = false;
    }
    return NOTHING;
  };
}

/**
 * ngrok agent v3 with `--log stdout --log-format json`: one JSON object per line, e.g.
 *
 *   {"lvl":"info","msg":"starting web service","obj":"web","addr":"127.0.0.1:4040","t":"…"}
 *   {"lvl":"info","msg":"started tunnel","obj":"tunnels","name":"command_line","addr":"http://localhost:8787","url":"https://ab12-203-0-113-7.ngrok-free.app","t":"…"}
 *
 * A missing or rejected auth token is reported with the error code ERR_NGROK_4018 (and older
 * agents say "authtoken" in the message).
 */
export function ngrokReader(): LineReader {
  return (line) => {
    let record: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return authProblem(line) ?? NOTHING;
      record = parsed as Record<string, unknown>;
    } catch {
      return authProblem(line) ?? NOTHING;
    }
    const text = JSON.stringify(record);
    const auth = authProblem(text);
    if (auth) return auth;
    if (record.msg === 'started tunnel' && typeof record.url === 'string' && /^https?:\/\//.test(record.url)) return { kind: 'url', url: record.url };
    if (record.msg === 'starting web service' && typeof record.addr === 'string' && record.addr !== '') return { kind: 'api', address: record.addr };
    return NOTHING;
  };
}

function authProblem(text: string): TunnelFinding | undefined {
  if (!/ERR_NGROK_4018|ERR_NGROK_105\b|authtoken/i.test(text)) return undefined;
  // "authtoken" also appears in harmless lines (e.g. a config path listing): only errors count.
  if (!/ERR_NGROK_|"lvl":"(eror|crit|error)"|lvl=(eror|crit)|ERROR/i.test(text)) return undefined;
  return {
    kind: 'fatal',
    message: 'ngrok refused to start: it has no valid auth token (ERR_NGROK_4018)',
    hint: 'Sign up at https://dashboard.ngrok.com/signup, then run: ngrok config add-authtoken <TOKEN> (or use --tunnel cloudflared, which needs no account).',
  };
}

/**
 * The agent API's GET /api/tunnels answer:
 *   {"tunnels":[{"name":"command_line","public_url":"https://….ngrok-free.app","proto":"https","config":{"addr":"http://localhost:8787","inspect":true}, …}],"uri":"/api/tunnels"}
 * Returns the https tunnel's public URL (else any), or undefined.
 */
export function publicUrlFromNgrokApi(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const tunnels = (body as { tunnels?: unknown }).tunnels;
  if (!Array.isArray(tunnels)) return undefined;
  const urls = tunnels
    .map((tunnel) => (tunnel !== null && typeof tunnel === 'object' ? (tunnel as { public_url?: unknown }).public_url : undefined))
    .filter((url): url is string => typeof url === 'string' && /^https?:\/\//.test(url));
  return urls.find((url) => url.startsWith('https://')) ?? urls[0];
}

/**
 * `--tunnel-command`: the first https URL the tool prints, or with `--tunnel-url-pattern` the
 * first match of that pattern (its first capture group when it has one).
 */
export function commandReader(pattern?: RegExp): LineReader {
  const find = pattern ?? /https:\/\/[^\s"'<>|]+/;
  return (line) => {
    const match = find.exec(stripAnsi(line));
    if (!match) return NOTHING;
    const url = (match[1] ?? match[0]).replace(/[.,;:)\]]+$/, '');
    return /^https?:\/\/[^/\s]+/.test(url) ? { kind: 'url', url } : NOTHING;
  };
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
}
