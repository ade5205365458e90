import { Command, Option } from 'commander';
import type { Deps } from '../../deps.js';
import { admin, adminFrom, run, type StoreFlags } from './options.js';

export default function relayTokenCommand(deps: Deps): Command {
  const token = new Command('token')
    .summary('create, list and revoke the tokens clients subscribe with')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh relay token create --store ./relay-data --name alice\n' +
        '  $ gemwh relay token list --store ./relay-data\n' +
        '  $ gemwh relay token revoke tok_1a2b3c4d5e6f --store ./relay-data\n',
    );
  token.addCommand(
    admin(
      new Command('create')
        .summary('create a token (printed once; the relay keeps only its hash)')
        .addOption(new Option('--name <name>', 'whose token this is').default('token')),
      ['gemwh relay token create --store ./relay-data --name alice', 'export GEMWH_RELAY_TOKEN=$(gemwh relay token create --store ./relay-data --name ci)'],
    ).action(async (flags: StoreFlags & { name: string }, command: Command) => run((m) => m.runTokenCreate, { ...adminFrom(flags, deps), name: flags.name }, deps, command)),
  );
  token.addCommand(
    admin(new Command('list').summary('list the tokens (ids and names, never the tokens)'), ['gemwh relay token list --store ./relay-data', 'gemwh relay token list --store ./relay-data --json']).action(
      async (flags: StoreFlags, command: Command) => run((m) => m.runTokenList, adminFrom(flags, deps), deps, command),
    ),
  );
  token.addCommand(
    admin(new Command('revoke').summary('revoke a token; its clients are disconnected').argument('<id>', 'token id (tok_…)'), [
      'gemwh relay token revoke tok_1a2b3c4d5e6f --store ./relay-data',
      'gemwh relay token revoke tok_1a2b3c4d5e6f --store redis://127.0.0.1:6379',
    ]).action(async (id: string, flags: StoreFlags, command: Command) => run((m) => m.runTokenRevoke, { ...adminFrom(flags, deps), id }, deps, command)),
  );
  return token;
}
