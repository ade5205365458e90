import { describe, expect, it } from 'vitest';
import { cloudflaredReader, commandReader, ngrokReader, publicUrlFromNgrokApi, type LineReader } from '../../src/tunnel/parse.js';

/** Feeds `text` line by line and returns the findings that are not `nothing`. */
function read(reader: LineReader, text: string) {
  return text
    .split('\n')
    .map((line) => reader(line))
    .filter((finding) => finding.kind !== 'nothing');
}

// As cloudflared 2025.8 prints a quick tunnel on stderr (the format is unchanged since 2023.x).
const CLOUDFLARED = `2026-12-07T05:00:00Z INF Thank you for trying Cloudflare Tunnel. Doing so, without a Cloudflare account, is a quick way to experiment and try it out. However, be aware that these account-less Tunnels have no uptime guarantee, are subject to the Cloudflare Online Services Terms of Use (https://www.cloudflare.com/website-terms/), and Cloudflare reserves the right to investigate your use of Tunnels for violations of such terms. If you intend to use Tunnels in production you should use a pre-created named tunnel by following: https://developers.cloudflare.com/cloudflare-one/connections/connect-apps
2026-12-07T05:00:00Z INF Requesting new quick Tunnel on trycloudflare.com...
2026-12-07T05:00:01Z INF +--------------------------------------------------------------------------------------------+
2026-12-07T05:00:01Z INF |  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |
2026-12-07T05:00:01Z INF |  https://seasonal-deck-organisms-sf.trycloudflare.com                                      |
2026-12-07T05:00:01Z INF +--------------------------------------------------------------------------------------------+
2026-12-07T05:00:01Z INF Cannot determine default configuration path. No file [config.yml config.yaml] in [~/.cloudflared ~/.cloudflare-warp ~/cloudflare-warp /etc/cloudflared /usr/local/etc/cloudflared]
2026-12-07T05:00:01Z INF Version 2025.8.1
2026-12-07T05:00:01Z INF Settings: map[ha-connections:1 no-autoupdate:true protocol:quic url:http://127.0.0.1:8787]
2026-12-07T05:00:02Z INF Registered tunnel connection connIndex=0 connection=6e1f… event=0 ip=198.41.200.13 location=ams08 protocol=quic`;

// ngrok agent 3.x with --log stdout --log-format json.
const NGROK = [
  '{"lvl":"info","msg":"no configuration paths supplied","t":"2026-12-07T05:00:00.1Z"}',
  '{"lvl":"info","msg":"using configuration at default config path","path":"/home/u/.config/ngrok/ngrok.yml","t":"2026-12-07T05:00:00.1Z"}',
  '{"addr":"127.0.0.1:4040","lvl":"info","msg":"starting web service","obj":"web","t":"2026-12-07T05:00:00.2Z"}',
  '{"lvl":"info","msg":"client session established","obj":"tunnels.session","t":"2026-12-07T05:00:00.5Z"}',
  '{"addr":"http://127.0.0.1:8787","lvl":"info","msg":"started tunnel","name":"command_line","obj":"tunnels","t":"2026-12-07T05:00:00.6Z","url":"https://ab12-203-0-113-7.ngrok-free.app"}',
].join('\n');

describe('cloudflared quick-tunnel banner', () => {
  it('takes the URL in the box, not the documentation links before it or the local URL after it', () => {
    expect(read(cloudflaredReader(), CLOUDFLARED)).toEqual([{ kind: 'url', url: 'https://seasonal-deck-organisms-sf.trycloudflare.com' }]);
  });

  it('finds nothing when the box never comes (a failed request for a quick tunnel)', () => {
    const failed = CLOUDFLARED.split('\n').slice(0, 2).join('\n') + '\n2026-12-07T05:00:01Z ERR failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": dial tcp: i/o timeout';
    expect(read(cloudflaredReader(), failed)).toEqual([]);
  });

  it('reads the box without the time prefix too (cloudflared --no-color / older loggers)', () => {
    const bare = '|  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |\n|  https://a-b-c.trycloudflare.com   |';
    expect(read(cloudflaredReader(), bare)).toEqual([{ kind: 'url', url: 'https://a-b-c.trycloudflare.com' }]);
  });
});

describe('ngrok JSON log and local API', () => {
  it('takes the local API address and the URL of "started tunnel"', () => {
    expect(read(ngrokReader(), NGROK)).toEqual([
      { kind: 'api', address: '127.0.0.1:4040' },
      { kind: 'url', url: 'https://ab12-203-0-113-7.ngrok-free.app' },
    ]);
  });

  it('reports a missing auth token (ERR_NGROK_4018) as fatal, with the way out', () => {
    const line = JSON.stringify({
      err: 'authentication failed: Usage of ngrok requires a verified account and authtoken.\n\nSign up for an account: https://dashboard.ngrok.com/signup\r\n\r\nERR_NGROK_4018\r\n',
      lvl: 'eror',
      msg: 'failed to reconnect session',
      obj: 'tunnels.session',
      t: '2026-12-07T05:00:00Z',
    });
    const [finding] = read(ngrokReader(), line);
    expect(finding).toMatchObject({ kind: 'fatal', message: expect.stringContaining('auth token') });
    expect(finding!.kind === 'fatal' && finding!.hint).toContain('ngrok config add-authtoken');
    // The plain-text form on stderr says the same.
    expect(read(ngrokReader(), 'ERROR:  ERR_NGROK_4018')[0]).toMatchObject({ kind: 'fatal' });
  });

  it('ignores lines that mention an authtoken without an error, and lines that are not JSON objects', () => {
    expect(read(ngrokReader(), '{"lvl":"info","msg":"authtoken saved to configuration file"}\n[1,2]\nnull\nnot json')).toEqual([]);
  });

  it('reads /api/tunnels, preferring the https tunnel', () => {
    const body = {
      tunnels: [
        { name: 'command_line (http)', public_url: 'http://ab12.ngrok-free.app', proto: 'http', config: { addr: 'http://127.0.0.1:8787', inspect: true } },
        { name: 'command_line', public_url: 'https://ab12.ngrok-free.app', proto: 'https', config: { addr: 'http://127.0.0.1:8787', inspect: true } },
      ],
      uri: '/api/tunnels',
    };
    expect(publicUrlFromNgrokApi(body)).toBe('https://ab12.ngrok-free.app');
    expect(publicUrlFromNgrokApi({ tunnels: [], uri: '/api/tunnels' })).toBeUndefined();
    for (const hostile of [null, 'x', { tunnels: 'no' }, { tunnels: [null, { public_url: 5 }, { public_url: 'javascript:x' }] }]) {
      expect(publicUrlFromNgrokApi(hostile)).toBeUndefined();
    }
  });
});

describe('--tunnel-command output', () => {
  it('takes the first https URL, without colours or trailing punctuation', () => {
    expect(read(commandReader(), 'starting…\n\x1b[1myour url is: https://fuzzy-cat-42.loca.lt\x1b[0m.\nhttps://second.example')).toEqual([
      { kind: 'url', url: 'https://fuzzy-cat-42.loca.lt' },
      { kind: 'url', url: 'https://second.example' },
    ]);
  });

  it('with --tunnel-url-pattern, takes its match (or its first group) and skips other https URLs', () => {
    const text = 'docs at https://theboroer.github.io/localtunnel-www/\nforwarding from https://abc.lhr.life to localhost:8787';
    expect(read(commandReader(/https:\/\/\S+\.lhr\.life/), text)).toEqual([{ kind: 'url', url: 'https://abc.lhr.life' }]);
    expect(read(commandReader(/forwarding from (\S+)/), text)).toEqual([{ kind: 'url', url: 'https://abc.lhr.life' }]);
    expect(read(commandReader(/forwarding from (\S+) to/), 'forwarding from not-a-url to x')).toEqual([]);
  });
});
