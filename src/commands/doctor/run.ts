import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { GlobalOptions } from '../../api/credentials.js';
import type { Deps } from '../../deps.js';
import { CheckFailedError, GemwhError } from '../../errors.js';
import { INSTALL_HINTS, installedTools } from '../../tunnel/tools.js';
import type { CommandContext } from '../context.js';

/**
 * `gemwh doctor`: what `listen --tunnel` (and the management commands) need, each check with the
 * way out when it fails. A failed check exits 9; a warning (e.g. ngrok without a token while
 * cloudflared is there) does not.
 */

export interface DoctorCheck {
  name: 'tunnel tool' | 'ngrok auth token' | 'API key' | 'secret store' | 'API root';
  status: 'ok' | 'warn' | 'fail' | 'skipped';
  detail: string;
  fix?: string;
}

export async function runDoctor(options: { json: boolean; home?: string }, ctx: CommandContext): Promise<void> {
  const { deps } = ctx;
  const checks: DoctorCheck[] = [];
  const tools = installedTools(deps.env);
  checks.push(
    tools.length > 0
      ? { name: 'tunnel tool', status: 'ok', detail: tools.map((t) => `${t.tool} (${t.path})`).join(', ') + `; --tunnel auto uses ${tools[0]!.tool}` }
      : {
          name: 'tunnel tool',
          status: 'fail',
          detail: 'neither cloudflared nor ngrok is on PATH',
          fix: `${INSTALL_HINTS.cloudflared} Or: ${INSTALL_HINTS.ngrok} Or use any tunnel with --tunnel-command.`,
        },
  );
  if (tools.some((t) => t.tool === 'ngrok')) checks.push(ngrokToken(deps, options.home ?? homedir(), tools.length > 1));

  const [{ resolveApiKey }, { resolveApiRoot }] = await Promise.all([import('../../api/credentials.js'), import('../../api/api-root.js')]);

  try {
    const store = await ctx.store();
    await store.check();
    checks.push({ name: 'secret store', status: 'ok', detail: `${store.kind}: ${store.location}` });
  } catch (error) {
    checks.push({ name: 'secret store', status: 'fail', detail: messageOf(error), fix: hintOf(error) ?? 'Use --secret-store file (or GEMWH_SECRET_STORE=file) where there is no keychain.' });
  }

  let key: string | undefined;
  try {
    const resolved = await resolveApiKey(deps, ctx.globals, ctx.store);
    key = resolved.key;
    checks.push({ name: 'API key', status: 'ok', detail: `from ${resolved.from ?? resolved.source}` });
  } catch (error) {
    checks.push({ name: 'API key', status: 'fail', detail: messageOf(error), fix: hintOf(error) });
  }

  let root: string | undefined;
  try {
    root = resolveApiRoot({ flag: ctx.globals.apiRoot, env: deps.env });
  } catch (error) {
    checks.push({ name: 'API root', status: 'fail', detail: messageOf(error), fix: hintOf(error) });
  }
  if (root) checks.push(await apiRootCheck(deps, ctx.globals, root, key));

  const failed = checks.filter((c) => c.status === 'fail');
  if (options.json) {
    deps.io.stdout.write(JSON.stringify({ ok: failed.length === 0, checks }, null, 2) + '\n');
  } else {
    const mark = { ok: '✓', warn: '!', fail: '✗', skipped: '-' } as const;
    for (const check of checks) {
      deps.io.stdout.write(`${mark[check.status]} ${check.name.padEnd(17)} ${check.detail}\n`);
      if (check.fix && check.status !== 'ok') deps.io.stdout.write(`  ${' '.repeat(17)} fix: ${check.fix.replace(/\n/g, `\n  ${' '.repeat(22)}`)}\n`);
    }
  }
  if (failed.length > 0) {
    throw new CheckFailedError(`${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.name).join(', ')}`, {
      hint: 'Each failed check above says how to fix it.',
    });
  }
}

/** ngrok keeps its token in NGROK_AUTHTOKEN or its config file (v3 locations per OS). */
function ngrokToken(deps: Deps, home: string, hasAlternative: boolean): DoctorCheck {
  if (deps.env.NGROK_AUTHTOKEN?.trim()) return { name: 'ngrok auth token', status: 'ok', detail: 'from $NGROK_AUTHTOKEN' };
  const configHome = deps.env.XDG_CONFIG_HOME?.startsWith('/') ? deps.env.XDG_CONFIG_HOME : join(home, '.config');
  const candidates = [
    join(configHome, 'ngrok', 'ngrok.yml'),
    join(home, 'Library', 'Application Support', 'ngrok', 'ngrok.yml'),
    join(home, '.ngrok2', 'ngrok.yml'),
  ];
  for (const file of candidates) {
    if (existsSync(file) && /^\s*authtoken:\s*\S+/m.test(safeRead(file))) return { name: 'ngrok auth token', status: 'ok', detail: `in ${file}` };
  }
  return {
    name: 'ngrok auth token',
    status: hasAlternative ? 'warn' : 'fail',
    detail: `none in $NGROK_AUTHTOKEN or ${candidates[0]}: ngrok will refuse to start (ERR_NGROK_4018)`,
    fix: 'ngrok config add-authtoken <TOKEN> (the token is at https://dashboard.ngrok.com/get-started/your-authtoken)',
  };
}

async function apiRootCheck(deps: Deps, globals: GlobalOptions, root: string, key: string | undefined): Promise<DoctorCheck> {
  if (key) {
    // The client gemwh itself uses (its proxy and timeout handling): a list of one webhook.
    const [{ createWebhookApi }, { AuthError }] = await Promise.all([import('../../api/client.js'), import('../../errors.js')]);
    const api = createWebhookApi(deps, { apiKey: key, apiRoot: root, apiVersion: globals.apiVersion, timeoutMs: 10_000, retry: { maxRetries: 0 } });
    try {
      await api.list({ page_size: 1 });
      return { name: 'API root', status: 'ok', detail: `${root} answered and accepted the API key` };
    } catch (error) {
      const refused = error instanceof AuthError;
      return {
        name: 'API root',
        status: 'fail',
        detail: refused ? `${root} refused the API key (${messageOf(error)})` : `${root}: ${messageOf(error)}`,
        fix: hintOf(error) ?? (refused ? 'Check the key, then gemwh auth login (or export GEMINI_API_KEY).' : 'Check the network, a proxy (HTTPS_PROXY), or --api-root / GEMWH_API_ROOT.'),
      };
    }
  }
  try {
    const response = await fetch(root, { signal: AbortSignal.any([deps.signal, AbortSignal.timeout(10_000)]) });
    await response.body?.cancel();
    return { name: 'API root', status: 'ok', detail: `${root} answered (HTTP ${response.status}); the key was not tried (there is none)` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? messageOf(error);
    return { name: 'API root', status: 'fail', detail: `cannot reach ${root} (${cause})`, fix: 'Check the network, a proxy (HTTPS_PROXY), or --api-root / GEMWH_API_ROOT.' };
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function hintOf(error: unknown): string | undefined {
  return error instanceof GemwhError ? error.hint : undefined;
}
