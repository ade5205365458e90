import { Command, Option } from 'commander';
import type { Deps } from '../../deps.js';
import { admin, adminFrom, run, type StoreFlags } from './options.js';

export default function relayChannelCommand(deps: Deps): Command {
  const channel = new Command('channel')
    .summary('create, list and delete channels (one ingest URL each)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh relay channel create --store ./relay-data --name ml-team --public-url https://relay.example.com\n' +
        '  $ gemwh relay channel list --store ./relay-data\n' +
        '  $ gemwh relay channel delete Qx3… --store ./relay-data\n',
    );
  channel.addCommand(
    admin(
      new Command('create')
        .summary('create a channel and print its ingest URL')
        .description('Create a channel with an id of 128 random bits. Prints the ingest URL to register with `gemwh create --uri`.')
        .addOption(new Option('--name <name>', 'a name for people').default('default')),
      [
        'gemwh relay channel create --store ./relay-data --public-url https://relay.example.com',
        'gemwh create --uri "$(gemwh relay channel create --store ./relay-data --public-url https://relay.example.com)" --events batch.succeeded',
      ],
    ).action(async (flags: StoreFlags & { name: string }, command: Command) => run((m) => m.runChannelCreate, { ...adminFrom(flags, deps), name: flags.name }, deps, command)),
  );
  channel.addCommand(
    admin(new Command('list').summary('list the channels'), ['gemwh relay channel list --store ./relay-data', 'gemwh relay channel list --store redis://127.0.0.1:6379 --json']).action(
      async (flags: StoreFlags, command: Command) => run((m) => m.runChannelList, adminFrom(flags, deps), deps, command),
    ),
  );
  channel.addCommand(
    admin(new Command('delete').summary('delete a channel and the deliveries kept for it').argument('<id>', 'channel id'), [
      'gemwh relay channel delete Qx3fJ0d8c1y2ZrP4n5sT6A --store ./relay-data',
      'gemwh relay channel delete Qx3fJ0d8c1y2ZrP4n5sT6A --store redis://127.0.0.1:6379',
    ]).action(async (id: string, flags: StoreFlags, command: Command) => run((m) => m.runChannelDelete, { ...adminFrom(flags, deps), id }, deps, command)),
  );
  return channel;
}
