import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { closestWord } from '../core/closest.js';
import { JsonSyntaxError, parseLocatedJson, type LocatedValue, type Place } from '../core/json-located.js';
import type { Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import { loadDotenv, type DotenvFile } from './dotenv.js';
import type { CheckContext } from './checks.js';
import { REFUSED_KEYS, SECTIONS, SETTINGS, settingKey, type OptionValue, type SettingSpec } from './settings.js';

/**
 * Reads gemwh's config files and `.env` for one run. Precedence, highest first: flags, environment
 * variables (including those a .env file adds), the project file, the user file, the defaults.
 * The flags and the environment are weighed where options are filled (apply.ts); this module
 * says what each file gives, and where.
 */

export const PROJECT_FILE = 'gemwh.json';
export const USER_FILE = 'config.json';

export type Env = Readonly<Record<string, string | undefined>>;

export interface FileValue {
  spec: SettingSpec;
  /** What commander would hold had the flag been given. */
  value: OptionValue;
  file: string;
  kind: 'project' | 'user';
  place: Place;
  /** For a list: where each item is, so a bad one is named precisely. */
  itemPlaces?: readonly Place[];
}

export interface ConfigFile {
  kind: 'project' | 'user';
  path: string;
  /** By settingKey(): `apiRoot`, `listen.forward`. */
  values: ReadonlyMap<string, FileValue>;
}

export interface LoadedConfig {
  /** Highest precedence first: the project file (or --config), then the user file. */
  files: readonly ConfigFile[];
  /** Where the project file was looked for or given; reported by `config show`. */
  projectFile?: string;
  userFile: string;
  dotenv?: DotenvFile;
  /** The environment the command sees: the process's, plus what .env adds (never replacing). */
  env: Env;
}

export interface LoadOptions {
  /** --config FILE: this file instead of the project's gemwh.json. */
  configFile?: string;
  /** --dotenv FILE: this file instead of the project's .env. */
  envFile?: string;
  /** The sections whose values are checked (top-level values always are); default all. */
  checkSections?: 'all' | readonly string[];
}

export async function loadConfig(deps: Pick<Deps, 'env' | 'paths' | 'cwd' | 'home' | 'io'>, options: LoadOptions = {}): Promise<LoadedConfig> {
  const cwd = deps.cwd;
  let projectFile: string | undefined;
  if (options.configFile !== undefined) {
    projectFile = cwd === undefined ? options.configFile : resolve(cwd, options.configFile);
    if (!(isFile(projectFile))) {
      throw new UsageError(`--config ${options.configFile}: no such file`, { hint: `Give the path of a gemwh config file (a JSON object), e.g. --config ./${PROJECT_FILE}.` });
    }
  } else if (cwd !== undefined) {
    projectFile = findProjectFile(cwd, deps.home);
  }
  const userFile = join(deps.paths.config, USER_FILE);

  // .env first: its variables beat the files. It sits next to the project file (the project's
  // root, as with docker compose), so a command run from a subfolder still gets it; without a
  // project file, in the current folder.
  const envFile = options.envFile !== undefined ? (cwd === undefined ? options.envFile : resolve(cwd, options.envFile)) : undefined;
  if (envFile !== undefined && !(isFile(envFile))) {
    throw new UsageError(`--dotenv ${options.envFile}: no such file`, { hint: 'Give the path of a file of NAME=value lines.' });
  }
  const dotenvPath = envFile ?? (projectFile !== undefined ? join(dirname(projectFile), '.env') : cwd !== undefined ? join(cwd, '.env') : undefined);
  const dotenv = dotenvPath !== undefined && (envFile !== undefined || isFile(dotenvPath)) ? loadDotenv(dotenvPath, deps.env, deps.io.stderr) : undefined;

  const raw: RawFile[] = [];
  if (projectFile !== undefined) raw.push(readConfigFile(projectFile, 'project'));
  if (isFile(userFile)) raw.push(readConfigFile(userFile, 'user'));
  const context: CheckContext = { allowUnknownEvents: raw.some((file) => file.values.get('listen.allowUnknownEvents')?.value === true) };
  // Values of a section are checked when its command runs (or `config show`): a mistake in
  // listen's settings does not stop `gemwh list`. Unknown keys and bad JSON stop every command.
  const sections = options.checkSections ?? 'all';
  const toCheck = raw.flatMap((file) => [...file.values.values()]).filter((found) => found.spec.check && (found.spec.section === '' || sections === 'all' || sections.includes(found.spec.section)));
  if (toCheck.length > 0) {
    const { TOP_LEVEL_CHECKS } = await import('./checks.js');
    const listen = toCheck.some((found) => found.spec.section === 'listen') ? (await import('./listen-checks.js')).LISTEN_CHECKS : {};
    const checks = { ...TOP_LEVEL_CHECKS, ...listen };
    for (const found of toCheck) checkValue(found, checks[found.spec.check!]!, context);
  }

  return {
    files: raw.map((file) => ({ kind: file.kind, path: file.path, values: file.values })),
    ...(projectFile !== undefined ? { projectFile } : {}),
    userFile,
    ...(dotenv ? { dotenv } : {}),
    env: dotenv ? dotenv.env : deps.env,
  };
}

const LOADED = new WeakMap<object, { config: LoadedConfig; applied: ReadonlyMap<string, FileValue> }>();

/** Keeps what this run loaded (and which options it filled) with the run's Deps, for `gemwh config show`. */
export function rememberConfig(deps: object, config: LoadedConfig, applied: ReadonlyMap<string, FileValue>): void {
  LOADED.set(deps, { config, applied });
}

export function loadedConfigOf(deps: object): { config: LoadedConfig; applied: ReadonlyMap<string, FileValue> } | undefined {
  return LOADED.get(deps);
}

/**
 * The folder's gemwh.json, else its parent's, and so on up to the repository root (the first
 * folder holding `.git`, whose own gemwh.json still counts) or the filesystem root. The home
 * folder is never searched: a file there would apply to every project below it, which is what
 * the user file in gemwh's config folder is for.
 */
export function findProjectFile(cwd: string, home?: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    if (home !== undefined && dir === resolve(home)) return undefined;
    const candidate = join(dir, PROJECT_FILE);
    if (isFile(candidate)) return candidate;
    if (exists(join(dir, '.git'))) return undefined;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The value the files give to `name` of `section` ('' for top level): section before top level, project before user. */
export function lookupSetting(config: Pick<LoadedConfig, 'files'>, section: string, name: string): FileValue | undefined {
  for (const file of config.files) {
    const found = (section !== '' ? file.values.get(`${section}.${name}`) : undefined) ?? file.values.get(name);
    if (found) return found;
  }
  return undefined;
}

/** `/path/gemwh.json:3:5`, as compilers and editors write a place. */
export function placeText(file: string, place: Place): string {
  return `${file}:${place.line}:${place.column}`;
}

interface RawFile {
  kind: 'project' | 'user';
  path: string;
  values: Map<string, FileValue>;
}

function readConfigFile(path: string, kind: 'project' | 'user'): RawFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the ${kind} config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  let root: LocatedValue;
  try {
    root = parseLocatedJson(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    throw new UsageError(`${placeText(path, error.place)}: invalid JSON: ${error.message}`, { hint: FILE_HINT });
  }
  const at = (place: Place) => placeText(path, place);
  if (root.kind !== 'object') throw new UsageError(`${at(root)}: a gemwh config file holds one JSON object, not ${kindText(root)}`, { hint: FILE_HINT });

  const values = new Map<string, FileValue>();
  for (const entry of root.entries) {
    if (entry.key === '$schema') {
      if (entry.value.kind !== 'string') throw new UsageError(`${at(entry.value)}: "$schema" must be a string (the URL or path of a JSON schema)`);
      continue;
    }
    if ((SECTIONS as readonly string[]).includes(entry.key)) {
      if (entry.value.kind !== 'object') throw new UsageError(`${at(entry.value)}: "${entry.key}" holds the settings of gemwh ${entry.key}: an object, not ${kindText(entry.value)}`, { hint: `e.g. "${entry.key}": { "forward": ["3000"] }` });
      for (const inner of entry.value.entries) {
        const spec = SETTINGS.find((candidate) => candidate.section === entry.key && candidate.name === inner.key);
        if (!spec) throw unknownKey(path, inner.key, inner.at, entry.key);
        values.set(settingKey(spec), convert(spec, inner.value, path, kind));
      }
      continue;
    }
    const spec = SETTINGS.find((candidate) => candidate.section === '' && candidate.name === entry.key);
    if (!spec) throw unknownKey(path, entry.key, entry.at, '');
    values.set(entry.key, convert(spec, entry.value, path, kind));
  }
  return { kind, path, values };
}

const FILE_HINT = 'A gemwh config file is one JSON object, e.g. {"apiRoot": "http://127.0.0.1:8790", "listen": {"forward": ["3000"]}}; `gemwh help configuration` lists the keys.';

function unknownKey(path: string, key: string, place: Place, section: string): UsageError {
  const where = placeText(path, place);
  const named = section === '' ? `"${key}"` : `"${section}.${key}"`;
  if (REFUSED_KEYS[key] !== undefined) return new UsageError(`${where}: ${named} is not accepted: ${REFUSED_KEYS[key]}`);
  const camel = key.replace(/[-_]+([a-z])/g, (_, letter: string) => letter.toUpperCase());
  const inSection = SETTINGS.filter((spec) => spec.section === section).map((spec) => spec.name);
  const candidates = section === '' ? [...inSection, ...SECTIONS] : inSection;
  if (camel !== key && candidates.includes(camel)) return new UsageError(`${where}: unknown key ${named}: keys are written in camelCase, "${camel}"`, { hint: HELP_POINTER });
  if (section === '') {
    const sectionSpec = SETTINGS.find((spec) => spec.section !== '' && spec.name === camel);
    if (sectionSpec) {
      return new UsageError(`${where}: "${key}" is a setting of gemwh ${sectionSpec.section}: put it in the "${sectionSpec.section}" section`, {
        hint: `e.g. "${sectionSpec.section}": { "${camel}": … }`,
      });
    }
  } else if (SETTINGS.some((spec) => spec.section === '' && spec.name === camel)) {
    return new UsageError(`${where}: ${named}: "${camel}" is a top-level setting, for every command; move it out of "${section}"`);
  }
  const near = closestWord(key, candidates);
  return new UsageError(`${where}: unknown key ${named}${near ? ` (did you mean "${near}"?)` : ''}`, { hint: HELP_POINTER });
}

const HELP_POINTER = '`gemwh help configuration` lists every key.';

function convert(spec: SettingSpec, node: LocatedValue, file: string, kind: 'project' | 'user'): FileValue {
  const key = settingKey(spec);
  const found = (value: OptionValue): FileValue => ({ spec, value, file, kind, place: { line: node.line, column: node.column } });
  const wrong = (want: string, at: Place = node) => new UsageError(`${placeText(file, at)}: "${key}" must be ${want}, not ${kindText(node)}`, { hint: HELP_POINTER });
  const text = (item: LocatedValue): string => {
    if (item.kind === 'string') {
      if (item.value.trim() === '') throw new UsageError(`${placeText(file, item)}: "${key}" is empty`, { hint: 'Give a value, or leave the key out.' });
      return item.value;
    }
    if (spec.numeric && item.kind === 'number') return String(item.value);
    throw new UsageError(`${placeText(file, item)}: "${key}" must be ${spec.numeric ? 'a number or a string' : 'a string'}, not ${kindText(item)}`, { hint: HELP_POINTER });
  };
  switch (spec.kind) {
    case 'text':
      return found(text(node));
    case 'switch':
      if (node.kind !== 'boolean') throw wrong('true or false');
      return found(node.value);
    case 'text-or-false':
      if (node.kind === 'boolean' && !node.value) return found(false);
      if (node.kind !== 'string') throw wrong('a file name, or false');
      return found(text(node));
    case 'list':
      if (node.kind === 'string') return found([text(node)]);
      if (node.kind !== 'array') throw wrong('a string or a list of strings');
      return { ...found(node.items.map(text)), itemPlaces: node.items.map((item) => ({ line: item.line, column: item.column })) };
    case 'routes':
      if (node.kind === 'array') return { ...found(node.items.map(text)), itemPlaces: node.items.map((item) => ({ line: item.line, column: item.column })) };
      if (node.kind !== 'object') throw wrong('an object {"PATTERN": "TARGET"} or a list of "PATTERN=TARGET"');
      return {
        ...found(node.entries.map((entry) => `${entry.key}=${text(entry.value)}`)),
        itemPlaces: node.entries.map((entry) => entry.at),
      };
  }
}

/** Runs the flag's own parser on the value; its complaint gets the file, line and key in front. */
function checkValue(found: FileValue, check: (value: OptionValue, label: string, context: CheckContext) => void, context: CheckContext): void {
  const key = settingKey(found.spec);
  const places = found.itemPlaces;
  const parts: Array<[OptionValue, Place]> = Array.isArray(found.value) && places ? found.value.map((item, i) => [[item], places[i] ?? found.place]) : [[found.value, found.place]];
  for (const [value, place] of parts) {
    try {
      check(value, key, context);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      const message = error.message.startsWith(key) ? error.message : `${key}: ${error.message}`;
      // The parsers' hints show flag syntax ("e.g. listen.port 8787"); in a file that is "port": 8787.
      const hint = error.hint?.replaceAll(`${key} `, `"${found.spec.name}": `);
      throw new UsageError(`${placeText(found.file, place)}: ${message}`, { hint, cause: error });
    }
  }
}

function kindText(node: LocatedValue): string {
  switch (node.kind) {
    case 'object':
      return 'an object';
    case 'array':
      return 'a list';
    case 'string':
      return `the string "${node.value}"`;
    case 'number':
      return `the number ${node.value}`;
    case 'boolean':
      return String(node.value);
    case 'null':
      return 'null';
  }
}

// Synchronous: a handful of stats and two small files at start-up cost less than a trip through
// the thread pool for each (measured: ~5 ms of every command's start).
function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

function exists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) !== undefined;
}
