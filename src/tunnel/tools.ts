import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UsageError } from '../errors.js';
import { cloudflaredReader, commandReader, ngrokReader, type LineReader } from './parse.js';

/** What `listen --tunnel` starts: a known tool, or the user's own command line. */
export type TunnelChoice = { kind: 'tool'; tool: 'cloudflared' | 'ngrok' | 'auto' } | { kind: 'command'; command: string; urlPattern?: RegExp };

/** `listen --tunnel …` / `--tunnel-command …` as parsed from the flags. */
export interface TunnelSettings {
  choice: TunnelChoice;
  urlTimeoutMs: number;
  reachTimeoutMs: number;
  checkIntervalMs: number;
  backoff: { initialMs: number; maxMs: number };
}

export const TUNNEL_DEFAULTS = {
  urlTimeoutMs: 30_000,
  reachTimeoutMs: 60_000,
  checkIntervalMs: 15_000,
  backoff: { initialMs: 1000, maxMs: 30_000 },
} as const;

export interface TunnelLaunch {
  /** Shown to the user: "cloudflared", "ngrok", or the command. */
  name: string;
  file: string;
  args: string[];
  /** What the running process is called (its pid file check): the tool, not the shell that exec'd it. */
  processName: string;
  reader: () => LineReader;
  /** Printed when the public URL never shows up or never answers. */
  tried: string;
}

export const KNOWN_TOOLS = ['cloudflared', 'ngrok'] as const;
export type KnownTool = (typeof KNOWN_TOOLS)[number];

export const INSTALL_HINTS: Record<KnownTool, string> = {
  cloudflared:
    'Install cloudflared (no account needed): brew install cloudflared, or the .deb/.rpm/binary from https://github.com/cloudflare/cloudflared/releases (docs: https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/).',
  ngrok: 'Install ngrok from https://ngrok.com/download (brew install ngrok, or the zip), then run: ngrok config add-authtoken <TOKEN> with the token from https://dashboard.ngrok.com.',
};

/** The executable `name` would run with this PATH, or undefined. */
export function findExecutable(name: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Which known tools this PATH has, in the order `auto` prefers them (cloudflared needs no account). */
export function installedTools(env: Readonly<Record<string, string | undefined>>): Array<{ tool: KnownTool; path: string }> {
  return KNOWN_TOOLS.flatMap((tool) => {
    const path = findExecutable(tool, env);
    return path ? [{ tool, path }] : [];
  });
}

/** How to start the chosen tunnel towards 127.0.0.1:port; a missing tool is a usage error that says how to install it. */
export function planLaunch(choice: TunnelChoice, listener: { host: string; port: number }, env: Readonly<Record<string, string | undefined>>): TunnelLaunch {
  if (choice.kind === 'command') {
    const command = choice.command.replaceAll('{port}', String(listener.port));
    const shell = env.SHELL && findExecutable(env.SHELL, env) ? env.SHELL : '/bin/sh';
    return {
      name: command,
      // exec: the shell becomes the tool, so stopping the process stops the tool itself.
      file: shell,
      args: ['-c', `exec ${command}`],
      processName: command.trim().split(/\s+/)[0] ?? shell,
      reader: () => commandReader(choice.urlPattern),
      tried: `\`${command}\`, waiting for ${choice.urlPattern ? `a match of --tunnel-url-pattern ${choice.urlPattern.source}` : 'the first https URL it prints'}`,
    };
  }
  const tool = choice.tool === 'auto' ? installedTools(env)[0]?.tool : choice.tool;
  if (tool === undefined) {
    throw new UsageError('--tunnel auto found neither cloudflared nor ngrok on PATH', {
      hint: `${INSTALL_HINTS.cloudflared}\nOr: ${INSTALL_HINTS.ngrok}\nOr start any other tunnel with --tunnel-command 'CMD … {port}'.`,
    });
  }
  const file = findExecutable(tool, env);
  if (!file) throw new UsageError(`--tunnel ${tool}: ${tool} is not installed (not found on PATH)`, { hint: INSTALL_HINTS[tool] });
  // Not "localhost": it may resolve to ::1 while the listener is on 127.0.0.1.
  const local = `http://${loopbackFor(listener.host)}:${listener.port}`;
  if (tool === 'cloudflared') {
    return {
      name: 'cloudflared',
      file,
      args: ['tunnel', '--no-autoupdate', '--url', local],
      processName: file,
      reader: cloudflaredReader,
      tried: `\`cloudflared tunnel --url ${local}\` (a quick tunnel on trycloudflare.com)`,
    };
  }
  return {
    name: 'ngrok',
    file,
    args: ['http', local, '--log', 'stdout', '--log-format', 'json'],
    processName: file,
    reader: ngrokReader,
    tried: `\`ngrok http ${local} --log stdout --log-format json\` and its local API /api/tunnels`,
  };
}

/** --tunnel-url-pattern: a regular expression, checked at parse time. */
export function parseUrlPattern(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch (error) {
    throw new UsageError(`--tunnel-url-pattern "${text}" is not a valid regular expression (${(error as Error).message})`, {
      hint: "e.g. --tunnel-url-pattern 'https://[a-z0-9-]+\\.loca\\.lt' (the first capture group, if any, is the URL)",
    });
  }
}

export function parseTunnelTool(text: string): TunnelChoice {
  if (text === 'cloudflared' || text === 'ngrok' || text === 'auto') return { kind: 'tool', tool: text };
  throw new UsageError(`--tunnel must be cloudflared, ngrok or auto, got "${text}"`, {
    hint: "For another tool, give its command line: --tunnel-command 'lt --port {port}'.",
  });
}

/** The address a local tool reaches the listener on: its own, or loopback when it listens on every address. */
function loopbackFor(host: string): string {
  if (host === '0.0.0.0' || host === '' ) return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
