/**
 * Every key a gemwh config file may hold. A key is the long name of a flag in camelCase and
 * takes what the flag takes (a list for a repeatable flag), so `--forward-timeout 45s` is
 * `"forwardTimeout": "45s"`. Top-level keys mean the same for every command: the global options
 * and `secretEnv` (the variable holding the secret your app verifies with, which listen, verify,
 * replay and conformance all take). Everything else lives in a command's section, because a
 * flag name can mean different things to different commands: `events` is listen's forward
 * filter but what `create` and `update` subscribe a webhook to, and a config file must never
 * change a webhook behind the user's back. Only listen has a section today: it is the command
 * people run all day with the same flags (forward targets, routes, events).
 *
 * Values are checked when the file is read, by the same parsers the flags use, so a mistake is
 * reported with the file and line, whatever command runs.
 */

/** The JSON shapes a key takes; each is turned into what commander would store for the flag. */
export type SettingKind =
  /** a string (a number is taken for numeric settings, e.g. a port) */
  | 'text'
  /** a string or a list of strings: a repeatable flag */
  | 'list'
  /** true or false: a switch */
  | 'switch'
  /** `--journal FILE` / `--no-journal`: a string, or false */
  | 'text-or-false'
  /** --route: a list of "PATTERN=TARGET", or an object { "PATTERN": "TARGET" } */
  | 'routes';

/** What commander stores for a flag: a string, a list of strings (repeatable), true/false. */
export type OptionValue = string | string[] | boolean;

export interface SettingSpec {
  /** Section ('' for top level) and name: the name is the option's attribute name. */
  section: '' | 'listen';
  name: string;
  kind: SettingKind;
  /** Numbers are accepted and turned into their text (ports, counts). */
  numeric?: boolean;
  /** An environment variable that stands for this setting: when set, it wins over the files. */
  env?: string;
  /**
   * Settings that are alternatives on the command line: when the command line gives any flag of
   * the group, no setting of the group comes from a file (a project's secretEnv must not be
   * added to the --secret someone typed, nor a --tunnel to their --public-url).
   */
  group?: 'secrets' | 'exposure';
  /** A top-level setting for every command that has the option, not a global option of the root. */
  everyCommand?: true;
  /**
   * Commands where the setting applies only beside one of these options, because the command
   * refuses the flag without them (`replay delivery` takes a secret only to sign anew).
   */
  onlyWith?: Readonly<Record<string, readonly string[]>>;
  /** For `gemwh config show`: what the setting is, in a few words. */
  about: string;
  /** The flag parser that checks a value (checks.ts), loaded only when a file gives one. */
  check?: CheckName;
}

export type CheckName =
  | 'apiRoot'
  | 'apiVersion'
  | 'secretStore'
  | 'envName'
  | 'port'
  | 'path'
  | 'httpUrl'
  | 'duration'
  | 'target'
  | 'route'
  | 'events'
  | 'header'
  | 'size'
  | 'journalSize'
  | 'journalKeep'
  | 'publicUrl'
  | 'tunnel'
  | 'urlPattern'
  | 'relayFilter';

export const SETTINGS: readonly SettingSpec[] = [
  { section: '', name: 'apiRoot', kind: 'text', env: 'GEMWH_API_ROOT', about: 'API server to talk to', check: 'apiRoot' },
  {
    section: '',
    name: 'apiVersion',
    kind: 'text',
    about: 'API version in request paths',
    check: 'apiVersion',
  },
  {
    section: '',
    name: 'secretStore',
    kind: 'text',
    env: 'GEMWH_SECRET_STORE',
    about: 'where signing secrets live',
    check: 'secretStore',
  },
  { section: '', name: 'secretEnv', kind: 'text', group: 'secrets', everyCommand: true, onlyWith: { 'replay delivery': ['resign', 'set'] }, about: 'variable holding the signing secret (listen, verify, replay, conformance)', check: 'envName' },

  { section: 'listen', name: 'host', kind: 'text', about: 'address to listen on' },
  { section: 'listen', name: 'port', kind: 'text', numeric: true, about: 'port to listen on', check: 'port' },
  { section: 'listen', name: 'path', kind: 'text', about: 'accept deliveries only on this path', check: 'path' },
  { section: 'listen', name: 'webhook', kind: 'list', group: 'secrets', about: "verify with these webhooks' stored secrets" },
  { section: 'listen', name: 'secretEnv', kind: 'list', group: 'secrets', about: 'verify with the secrets in these variables', check: 'envName' },
  { section: 'listen', name: 'jwksUrl', kind: 'text', about: 'dynamic webhooks: JWKS URL', check: 'httpUrl' },
  { section: 'listen', name: 'jwksFile', kind: 'text', about: 'dynamic webhooks: local JWKS file' },
  { section: 'listen', name: 'audience', kind: 'list', about: 'dynamic webhooks: accepted JWT aud claims' },
  { section: 'listen', name: 'tolerance', kind: 'text', about: 'allowed clock skew', check: 'duration' },
  { section: 'listen', name: 'forward', kind: 'list', about: 'forward verified deliveries here', check: 'target' },
  {
    section: 'listen',
    name: 'route',
    kind: 'routes',
    about: 'event types forwarded elsewhere',
    check: 'route',
  },
  {
    section: 'listen',
    name: 'events',
    kind: 'list',
    about: 'forward only these event types',
    check: 'events',
  },
  { section: 'listen', name: 'allowUnknownEvents', kind: 'switch', about: 'accept event types the catalog does not know' },
  { section: 'listen', name: 'header', kind: 'list', about: 'headers added to every forward', check: 'header' },
  { section: 'listen', name: 'forwardTimeout', kind: 'text', about: 'time allowed for the app to answer', check: 'duration' },
  { section: 'listen', name: 'insecure', kind: 'switch', about: "forward despite an untrusted TLS certificate" },
  { section: 'listen', name: 'forwardAsReceived', kind: 'switch', about: 'forward retries with the original signature' },
  { section: 'listen', name: 'retryInitial', kind: 'text', about: 'first retry delay of a failed forward', check: 'duration' },
  { section: 'listen', name: 'retryMax', kind: 'text', about: 'longest delay between retries', check: 'duration' },
  { section: 'listen', name: 'maxBody', kind: 'text', numeric: true, about: 'largest body accepted', check: 'size' },
  { section: 'listen', name: 'journal', kind: 'text-or-false', about: 'journal file (false: no journal)' },
  { section: 'listen', name: 'journalMaxSize', kind: 'text', numeric: true, about: 'rotate the journal at this size', check: 'journalSize' },
  { section: 'listen', name: 'journalKeep', kind: 'text', numeric: true, about: 'rotated journal files kept', check: 'journalKeep' },
  { section: 'listen', name: 'fsync', kind: 'switch', about: 'fsync the journal before each answer' },
  { section: 'listen', name: 'quiet', kind: 'switch', about: 'print only ready, rejected, failures, warnings' },
  { section: 'listen', name: 'publicUrl', kind: 'text', group: 'exposure', about: 'register a temporary webhook for this URL', check: 'publicUrl' },
  { section: 'listen', name: 'tunnel', kind: 'text', group: 'exposure', about: 'start this tunnel tool', check: 'tunnel' },
  { section: 'listen', name: 'tunnelCommand', kind: 'text', group: 'exposure', about: 'start this tunnel command' },
  { section: 'listen', name: 'tunnelUrlPattern', kind: 'text', about: "the tunnel command's URL pattern", check: 'urlPattern' },
  { section: 'listen', name: 'tunnelCheckInterval', kind: 'text', about: 'how often the tunnel is probed', check: 'duration' },
  { section: 'listen', name: 'tunnelTimeout', kind: 'text', about: 'time allowed for a tunnel URL to work', check: 'duration' },
  { section: 'listen', name: 'relay', kind: 'text', about: 'also take this relay channel', check: 'httpUrl' },
  { section: 'listen', name: 'relayTokenEnv', kind: 'text', about: 'variable holding the relay token', check: 'envName' },
  { section: 'listen', name: 'relayFilter', kind: 'list', about: 'take only matching relay deliveries', check: 'relayFilter' },
];

export const SECTIONS = ['listen'] as const;

/** `apiRoot` or `listen.forward`: how messages and `config show` name a setting. */
export function settingKey(spec: Pick<SettingSpec, 'section' | 'name'>): string {
  return spec.section === '' ? spec.name : `${spec.section}.${spec.name}`;
}

/**
 * Keys that look like settings but are refused with a reason: a file is committed, copied and
 * shared, the wrong place for a credential.
 */
export const REFUSED_KEYS: Readonly<Record<string, string>> = {
  apiKey: 'an API key does not belong in a file that may be committed; use `gemwh auth login`, or GEMINI_API_KEY (a .env file works)',
  secret: 'a signing secret does not belong in a file that may be committed; put it in a variable (a .env file works) and name it with "secretEnv"',
};
