import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/dist.js';

/**
 * What an app installing gemwh gets: the "exports" map points at built files that `npm pack`
 * ships, with their declarations, and `bin` keeps working next to it. Needs `npm run build`
 * (CI builds before testing).
 */

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
  peerDependenciesMeta: Record<string, { optional: boolean }>;
  peerDependencies: Record<string, string>;
  dependencies: Record<string, string>;
};
const SUBPATHS = ['./verify', './verify/node', './verify/fastify', './verify/fetch'];

describe('the published package', () => {
  let app: string;
  beforeAll(() => {
    // An app with gemwh in its node_modules (a link to this repository, as `npm link` makes).
    app = mkdtempSync(join(tmpdir(), 'gemwh-app-'));
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(REPO_ROOT, join(app, 'node_modules', 'gemwh'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }));
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  it('exports each subpath as ESM with declarations, and npm pack ships them', () => {
    const packed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(packed.status, packed.stderr).toBe(0);
    const files = new Set((JSON.parse(packed.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path));
    for (const subpath of SUBPATHS) {
      const entry = pkg.exports[subpath] as { types: string; default: string };
      for (const file of [entry.types, entry.default]) {
        expect(existsSync(join(REPO_ROOT, file)), `${file} (run npm run build)`).toBe(true);
        expect(files.has(file.replace(/^\.\//, '')), `${file} in npm pack`).toBe(true);
      }
    }
    expect(files.has(pkg.bin.gemwh!)).toBe(true);
    // Frameworks are optional peers, never dependencies.
    for (const framework of ['express', 'fastify', 'hono']) {
      expect(pkg.dependencies[framework]).toBeUndefined();
      expect(pkg.peerDependenciesMeta[framework]).toEqual({ optional: true });
    }
  }, 120_000);

  it('an app imports gemwh/verify by name and verifies; the gemwh bin still runs', () => {
    const script = `
      import { createVerifier, createWebhooks } from 'gemwh/verify';
      import { createNodeMiddleware } from 'gemwh/verify/node';
      import { createFetchHandler } from 'gemwh/verify/fetch';
      import { gemwhFastify } from 'gemwh/verify/fastify';
      const verdict = await createVerifier({ secrets: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }).verify({ headers: {}, rawBody: '' });
      console.log([typeof createWebhooks, typeof createNodeMiddleware, typeof createFetchHandler, typeof gemwhFastify, verdict.reason].join(' '));
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('function function function function missing_header');
    const bin = spawnSync(process.execPath, [join(app, 'node_modules', 'gemwh', pkg.bin.gemwh!), '--version'], { cwd: app, encoding: 'utf8' });
    expect(bin.status).toBe(0);
    expect(bin.stdout).toMatch(/\d+\.\d+\.\d+/);
  });

  it('an app written in TypeScript type-checks against the declarations, narrowing events by type', () => {
    writeFileSync(
      join(app, 'app.ts'),
      `import { createWebhooks, type WebhookEvent } from 'gemwh/verify';
import { createNodeMiddleware } from 'gemwh/verify/node';
const webhooks = createWebhooks({ secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], jwks: 'google', audience: 'https://a.example/' });
webhooks.on('batch.failed', (event) => { const message: string | undefined = event.data.error_message; void message; });
webhooks.on('video.generated', (event) => { const uri: string | undefined = event.data.output_file_uri; void uri; });
export function describe(event: WebhookEvent): string {
  if (event.type === 'batch.succeeded') return event.data.output_file_uri ?? event.data.id;
  return event.type;
}
// @ts-expect-error: not an event type of the catalog
webhooks.on('batch.completed', () => undefined);
export const middleware = createNodeMiddleware(webhooks);
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(REPO_ROOT, 'node_modules', '@types')] }, files: ['app.ts'] }),
    );
    const tsc = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 120_000);
});
