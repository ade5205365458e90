'use strict';
/*
 * A stand-in for a tunnel tool (cloudflared, ngrok, or any command), for tests without internet.
 * It relays HTTP from a local "public" port to the target it was started for, and prints what the
 * real tool prints, in its documented format, with that loopback URL in place of the public one.
 *
 * Usage: standin.cjs cloudflared tunnel --no-autoupdate --url http://127.0.0.1:PORT
 *        standin.cjs ngrok http http://127.0.0.1:PORT --log stdout --log-format json
 *        standin.cjs fake-tunnel --port PORT
 * Env:   STANDIN_STATE_DIR  write <pid>.json ({pid, tool, url}) there once the URL is printed
 *        STANDIN_NGROK_NO_AUTHTOKEN=1  ngrok fails like an agent without an auth token
 *        STANDIN_NGROK_API_ONLY=1      ngrok prints no "started tunnel" line (the URL is only in its local API)
 *        STANDIN_SILENT=1             print no URL at all (and keep running)
 * SIGUSR1: the relay stops reaching the target (answers 502), as a tunnel whose edge lost it.
 */
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const [tool, ...args] = process.argv.slice(2);
let target;
if (tool === 'cloudflared') target = args[args.indexOf('--url') + 1];
else if (tool === 'ngrok') {
  const addr = args[1];
  target = /^\d+$/.test(addr) ? `http://localhost:${addr}` : /^https?:\/\//.test(addr) ? addr : `http://${addr}`;
} else target = `http://127.0.0.1:${args[args.indexOf('--port') + 1]}`;
const origin = new URL(target);

let broken = false;
process.on('SIGUSR1', () => (broken = true));
process.on('SIGTERM', () => process.exit(0));

const relay = http.createServer((req, res) => {
  if (broken) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('bad gateway: the origin cannot be reached');
    return;
  }
  const forward = http.request(
    { host: origin.hostname, port: origin.port, method: req.method, path: req.url, headers: { ...req.headers, host: origin.host } },
    (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    },
  );
  forward.on('error', () => {
    res.writeHead(502);
    res.end('bad gateway');
  });
  req.pipe(forward);
});

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const cf = (line) => process.stderr.write(`${now()} INF ${line}\n`);
const ng = (record) => process.stdout.write(JSON.stringify({ ...record, t: now() }) + '\n');

relay.listen(0, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${relay.address().port}`;
  if (tool === 'cloudflared') printCloudflared(url);
  else if (tool === 'ngrok') printNgrok(url);
  else if (!process.env.STANDIN_SILENT) process.stdout.write(`\x1b[32mtunnel ready\x1b[0m, see https://example.org/docs; your url is: ${url}\n`);
  if (process.env.STANDIN_STATE_DIR) {
    fs.writeFileSync(path.join(process.env.STANDIN_STATE_DIR, `${process.pid}.json`), JSON.stringify({ pid: process.pid, tool, url }));
  }
});

function printCloudflared(url) {
  cf(
    'Thank you for trying Cloudflare Tunnel. Doing so, without a Cloudflare account, is a quick way to experiment and try it out. However, be aware that these account-less Tunnels have no uptime guarantee, are subject to the Cloudflare Online Services Terms of Use (https://www.cloudflare.com/website-terms/), and Cloudflare reserves the right to investigate your use of Tunnels for violations of such terms. If you intend to use Tunnels in production you should use a pre-created named tunnel by following: https://developers.cloudflare.com/cloudflare-one/connections/connect-apps',
  );
  cf('Requesting new quick Tunnel on trycloudflare.com...');
  if (process.env.STANDIN_SILENT) return;
  const width = 92;
  cf(`+${'-'.repeat(width)}+`);
  cf(`|${'  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):'.padEnd(width)}|`);
  cf(`|${`  ${url}`.padEnd(width)}|`);
  cf(`+${'-'.repeat(width)}+`);
  cf('Cannot determine default configuration path. No file [config.yml config.yaml] in [~/.cloudflared ~/.cloudflare-warp ~/cloudflare-warp /etc/cloudflared /usr/local/etc/cloudflared]');
  cf('Version 2025.8.1 (Checksum 0000000000000000000000000000000000000000000000000000000000000000)');
  cf(`Settings: map[ha-connections:1 no-autoupdate:true protocol:quic url:${target}]`);
  cf('Generated Connector ID: 00000000-0000-4000-8000-000000000000');
  cf('Initial protocol quic');
  cf('Starting metrics server on 127.0.0.1:20241/metrics');
  cf('Registered tunnel connection connIndex=0 connection=00000000-0000-4000-8000-000000000001 event=0 ip=198.41.200.13 location=ams08 protocol=quic');
}

function printNgrok(url) {
  ng({ lvl: 'info', msg: 'no configuration paths supplied' });
  ng({ lvl: 'info', msg: 'using configuration at default config path', path: '/home/user/.config/ngrok/ngrok.yml' });
  ng({ lvl: 'info', msg: 'open config file', path: '/home/user/.config/ngrok/ngrok.yml', err: null });
  if (process.env.STANDIN_NGROK_NO_AUTHTOKEN) {
    ng({
      lvl: 'eror',
      msg: 'failed to reconnect session',
      obj: 'tunnels.session',
      err: 'authentication failed: Usage of ngrok requires a verified account and authtoken.\n\nSign up for an account: https://dashboard.ngrok.com/signup\nInstall your authtoken: https://dashboard.ngrok.com/get-started/your-authtoken\r\n\r\nERR_NGROK_4018\r\n',
    });
    process.stderr.write('ERROR:  authentication failed: Usage of ngrok requires a verified account and authtoken.\nERROR:  \nERROR:  ERR_NGROK_4018\n');
    process.exit(1);
  }
  const api = http.createServer((req, res) => {
    if (req.url !== '/api/tunnels') {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        tunnels: process.env.STANDIN_SILENT
          ? []
          : [
              {
                name: 'command_line',
                ID: '0123456789abcdef0123456789abcdef',
                uri: '/api/tunnels/command_line',
                public_url: url,
                proto: 'https',
                config: { addr: target, inspect: true },
                metrics: { conns: { count: 0, gauge: 0, rate1: 0, rate5: 0, rate15: 0, p50: 0, p90: 0, p95: 0, p99: 0 } },
              },
            ],
        uri: '/api/tunnels',
      }),
    );
  });
  api.listen(0, '127.0.0.1', () => {
    ng({ addr: `127.0.0.1:${api.address().port}`, lvl: 'info', msg: 'starting web service', obj: 'web' });
    ng({ lvl: 'info', msg: 'client session established', obj: 'tunnels.session' });
    ng({ lvl: 'info', msg: 'tunnel session started', obj: 'tunnels.session' });
    if (!process.env.STANDIN_NGROK_API_ONLY && !process.env.STANDIN_SILENT) {
      ng({ addr: target, lvl: 'info', msg: 'started tunnel', name: 'command_line', obj: 'tunnels', url });
    }
  });
}
