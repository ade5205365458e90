import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface ListenChild {
  child: ChildProcess;
  /** The `url` of the `ready` record. */
  url: string;
  stderr(): string;
  exited: Promise<number | null>;
}

export interface ListenChildOptions {
  /** The folder holding the built cli.js (compiledDist()). */
  dist: string;
  /** A temporary home: HOME and the XDG folders go below it. */
  home: string;
  /** Flags after `listen --port 0 --json`. */
  args: readonly string[];
  /** Added to (or replacing) the child's minimal environment. */
  env?: Record<string, string | undefined>;
  /** Every child started goes here until it exits, for the test's afterAll to kill. */
  children: Set<ChildProcess>;
  readyTimeoutMs: number;
  /** true: the first NDJSON line must be `ready`; false: lines before it are passed over. */
  readyFirst: boolean;
}

/**
 * The built CLI's `listen` as a real child process (tests that SIGKILL or SIGTERM it), resolved
 * once its `ready` record is printed. Its stdout keeps being read so a full pipe never blocks it.
 */
export async function startListenChild(options: ListenChildOptions): Promise<ListenChild> {
  const { home } = options;
  const child = spawn(process.execPath, [join(options.dist, 'cli.js'), 'listen', '--port', '0', '--json', ...options.args], {
    env: {
      PATH: process.env.PATH,
      HOME: home,
      XDG_STATE_HOME: join(home, 'state'),
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_CACHE_HOME: join(home, 'cache'),
      GEMWH_SECRET_STORE: 'file',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.children.add(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then(() => options.children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line; stderr: ${stderr}`)), options.readyTimeoutMs);
    let first = true;
    lines.on('line', (line) => {
      const record = JSON.parse(line) as { type: string; url: string };
      const wasFirst = first;
      first = false;
      if (record.type !== 'ready') {
        if (options.readyFirst && wasFirst) reject(new Error(`first line is not ready: ${line}`));
        return;
      }
      clearTimeout(timer);
      resolve(record.url);
    });
    child.once('exit', (code) => reject(new Error(`listen exited with ${code}: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr, exited };
}
