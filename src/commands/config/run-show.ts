import { relative, sep } from 'node:path';
import { DEFAULT_API_ROOT } from '../../api/api-root.js';
import { loadConfig, loadedConfigOf, lookupSetting, type LoadedConfig } from '../../config/load.js';
import { SETTINGS, settingKey, type SettingSpec } from '../../config/settings.js';
import { redactApiKey, redactSecret } from '../../core/redact.js';
import type { Deps } from '../../deps.js';
import type { CommandContext } from '../context.js';

export interface ConfigShowOptions {
  json: boolean;
  /** The root's options as the command line and the config hook left them. */
  globals: Record<string, { value: unknown; source: string | undefined }>;
}

export type SettingSource = 'flag' | 'env' | 'project' | 'user' | 'default' | 'store';

/** One line of `config show`; JSON keys as printed by --json. */
export interface SettingRow {
  key: string;
  /** As the command would get it; secrets redacted. */
  value: string | string[] | boolean | null;
  source: SettingSource;
  /** The flag, the environment variable, or the file's path. */
  from?: string;
  line?: number;
  column?: number;
  /** The .env file that set the environment variable. */
  envFile?: string;
  /** For secretEnv: the secret in that variable, redacted; null when the variable is unset. */
  secret?: string | null;
}

const GLOBAL_DEFAULTS: Readonly<Record<string, string>> = { apiRoot: DEFAULT_API_ROOT, secretStore: 'keychain' };

export async function runConfigShow(options: ConfigShowOptions, ctx: CommandContext): Promise<void> {
  const { deps, out } = ctx;
  const config = loadedConfigOf(deps)?.config ?? (await loadConfig(deps));
  const listenDefaults = await listenOptionDefaults(deps);
  const rows: SettingRow[] = [apiKeyRow(options, config)];
  for (const spec of SETTINGS) rows.push(settingRow(spec, options, config, listenDefaults));

  const files = {
    project: config.projectFile ?? null,
    user: config.files.some((file) => file.kind === 'user') ? config.userFile : null,
    userLookedFor: config.userFile,
    envFile: config.dotenv ? { path: config.dotenv.path, added: config.dotenv.added } : null,
  };
  if (options.json) {
    out.json({ files, settings: rows });
    return;
  }
  const show = (path: string) => shortPath(path, deps);
  deps.io.stderr.write(
    `gemwh: project file: ${files.project ? show(files.project) : `none (no ${'gemwh.json'} from here up to the repository root)`}; ` +
      `user file: ${files.user ? show(files.user) : `none (${show(files.userLookedFor)})`}; ` +
      `.env: ${files.envFile ? `${show(files.envFile.path)} (${files.envFile.added.length} variable${files.envFile.added.length === 1 ? '' : 's'} added)` : 'none'}\n`,
  );
  await out.table(rows, [
    { header: 'SETTING', value: (row) => row.key },
    { header: 'VALUE', value: (row) => valueText(row), minWidth: 12 },
    { header: 'SOURCE', value: (row) => sourceText(row, show), minWidth: 12 },
  ]);
}

function apiKeyRow(options: ConfigShowOptions, config: LoadedConfig): SettingRow {
  const flag = options.globals.apiKey;
  if (flag?.source === 'cli' && typeof flag.value === 'string') return { key: 'apiKey', value: redactApiKey(flag.value), source: 'flag', from: '--api-key' };
  for (const name of ['GEMINI_API_KEY', 'GOOGLE_API_KEY']) {
    const value = config.env[name]?.trim();
    if (value) return { key: 'apiKey', value: redactApiKey(value), source: 'env', from: name, ...envFileOf(name, config) };
  }
  return { key: 'apiKey', value: null, source: 'store', from: 'the secret store (gemwh auth status)' };
}

function settingRow(spec: SettingSpec, options: ConfigShowOptions, config: LoadedConfig, listenDefaults: ReadonlyMap<string, unknown>): SettingRow {
  const key = settingKey(spec);
  const withSecret = (row: SettingRow): SettingRow => (spec.name === 'secretEnv' ? { ...row, secret: secretOf(row.value, config) } : row);
  const global = spec.section === '' ? options.globals[spec.name] : undefined;
  if (global?.source === 'cli') return { key, value: global.value as string, source: 'flag', from: `--${kebab(spec.name)}` };
  const fromEnv = spec.env !== undefined ? config.env[spec.env]?.trim() : undefined;
  if (fromEnv) return { key, value: fromEnv, source: 'env', from: spec.env, ...envFileOf(spec.env!, config) };
  const found = lookupSetting(config, spec.section, spec.name);
  if (found) return withSecret({ key, value: found.value, source: found.kind, from: found.file, line: found.place.line, column: found.place.column });
  const fallback = global !== undefined ? (global.value ?? GLOBAL_DEFAULTS[spec.name]) : spec.section === 'listen' ? listenDefaults.get(spec.name) : undefined;
  return withSecret({ key, value: fallback === undefined ? null : (fallback as string | string[] | boolean), source: 'default' });
}

function envFileOf(name: string, config: LoadedConfig): { envFile?: string } {
  return config.dotenv?.added.includes(name) ? { envFile: config.dotenv.path } : {};
}

/** The secret in the (first) named variable, redacted: enough to tell which one it is. */
function secretOf(value: SettingRow['value'], config: LoadedConfig): string | null {
  const name = Array.isArray(value) ? value[0] : typeof value === 'string' ? value : undefined;
  const secret = name === undefined ? undefined : config.env[name]?.trim();
  return secret ? redactSecret(secret) : null;
}

/** listen's defaults, from its own definition, so they cannot drift from `listen --help`. */
async function listenOptionDefaults(deps: Deps): Promise<ReadonlyMap<string, unknown>> {
  const { default: listenCommand } = await import('../listen/index.js');
  const listen = listenCommand(deps);
  const defaults = new Map<string, unknown>();
  for (const option of listen.options) if (option.defaultValue !== undefined) defaults.set(option.attributeName(), option.defaultValue);
  return defaults;
}

function valueText(row: SettingRow): string {
  const text = row.value === null ? '-' : Array.isArray(row.value) ? (row.value.length === 0 ? '[]' : row.value.join(', ')) : String(row.value);
  if (row.secret === undefined || row.value === null) return text;
  return `${text} (${row.secret === null ? 'not set' : row.secret})`;
}

function sourceText(row: SettingRow, show: (path: string) => string): string {
  switch (row.source) {
    case 'flag':
      return `flag ${row.from}`;
    case 'env':
      return `env ${row.from}${row.envFile ? ` (${show(row.envFile)})` : ''}`;
    case 'project':
    case 'user':
      return `${row.source} ${show(row.from!)}:${row.line}:${row.column}`;
    case 'store':
      return row.from!;
    case 'default':
      return 'default';
  }
}

/** A path as short as it stays clear: relative below the current folder, ~ for home. */
function shortPath(path: string, deps: Pick<Deps, 'cwd' | 'home'>): string {
  if (deps.cwd !== undefined) {
    const below = relative(deps.cwd, path);
    if (below !== '' && !below.startsWith('..') && !below.startsWith(sep)) return below;
  }
  const home = deps.home;
  return home !== undefined && path.startsWith(home + sep) ? `~${path.slice(home.length)}` : path;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}
