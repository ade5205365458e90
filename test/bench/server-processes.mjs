// Server processes a benchmark starts: each prints {"url": …} as its first stdout line when ready.
// Every one started is killed when the benchmark exits, however it exits.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts `node [...nodeFlags] ...args` and resolves with the child and its URL once it is ready. */
export function startServerProcess(args, { label = args.join(' '), nodeFlags = [], cwd, env = process.env } = {}) {
  const child = spawn(process.execPath, [...nodeFlags, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    lines.once('line', (line) => {
      // Keep draining stdout: a full pipe would block the server's writes.
      lines.on('line', () => {});
      resolve({ child, url: JSON.parse(line).url });
    });
    child.once('exit', (code) => reject(new Error(`${label} exited with ${code}: ${stderr}`)));
  });
}

/** SIGTERM, and wait until it is gone. */
export async function stopServerProcess(child) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
