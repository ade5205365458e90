/** What the relay subcommands share: the --store flags of the admin commands, and run(), which loads run.ts and the context in the action. */
import { Command, Option } from 'commander';
import { parsePositiveDuration } from '../../flags/duration.js';
import type { Deps } from '../../deps.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../../errors.js';
import type { AdminOptions, StoreOptions } from './run.js';

export interface StoreFlags {
  store?: string;
  retention: string;
  json?: boolean;
  publicUrl?: string;
}

const STORE_ENV = 'GEMWH_RELAY_STORE';

export function storeOption(): Option {
  return new Option('--store <dir|redis-url>', `where deliveries, channels and token hashes live: a directory, or redis://… (env: ${STORE_ENV})`);
}

export function storeFrom(flags: StoreFlags, deps: Deps): StoreOptions {
  const store = flags.store ?? deps.env[STORE_ENV];
  if (!store) throw new UsageError('--store is required', { hint: `e.g. --store ./relay-data or --store redis://127.0.0.1:6379 (or set ${STORE_ENV})` });
  return { store, retentionMs: parsePositiveDuration(flags.retention, '--retention') };
}

export function adminFrom(flags: StoreFlags, deps: Deps): AdminOptions {
  if (flags.publicUrl !== undefined && !/^https?:\/\/[^/]+/i.test(flags.publicUrl)) {
    throw new UsageError(`--public-url ${flags.publicUrl}: expected the relay's public base URL`, { hint: 'e.g. --public-url https://relay.example.com' });
  }
  return { ...storeFrom(flags, deps), json: flags.json === true, publicUrl: flags.publicUrl ?? deps.env.GEMWH_RELAY_PUBLIC_URL };
}

/** The flags every admin subcommand shares; --retention matters only to serve but is accepted by all. */
export function admin(command: Command, examples: string[]): Command {
  return command
    .addOption(storeOption())
    .addOption(new Option('--retention <duration>', 'how long deliveries are kept').default('72h').hideHelp())
    .addOption(new Option('--public-url <url>', "the relay's public base URL, to print full URLs (env: GEMWH_RELAY_PUBLIC_URL)"))
    .addOption(new Option('--json', 'print JSON'))
    .addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}\n`).join('')}`);
}

/** Loads the run module (and the context) only when a relay command runs. */
export const run = async <T>(pick: (module: typeof import('./run.js')) => (options: T, ctx: CommandContext) => Promise<void>, options: T, deps: Deps, command: Command) => {
  const [module, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
  await pick(module)(options, contextOf(deps, command));
};
