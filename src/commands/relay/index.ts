import type { Command } from 'commander';
import type { Deps } from '../../deps.js';
import { commandGroup, type CommandFactory } from '../command-factory.js';

// One line per subcommand, in help order.
const SUBCOMMANDS: Array<{ default: CommandFactory }> = await Promise.all([
  import('./serve.js'),
  import('./channel.js'),
  import('./token.js'),
]);

export default function relayCommand(deps: Deps): Command {
  return commandGroup(
    deps,
    {
      name: 'relay',
      summary: 'one public endpoint for a team, fanned out to every developer\'s `gemwh listen`',
      description:
        'A small server the team runs itself: Gemini delivers to one ingest URL per channel; the relay ' +
        'stores each delivery durably before answering 2xx, and every `gemwh listen --relay` subscribed ' +
        'to the channel receives it (server-sent events, resumed after a laptop slept). Storage is a ' +
        'directory (one instance) or Redis Streams (several instances behind a load balancer). The ' +
        'channel and token commands edit the same --store directly.',
      examples: [
        'gemwh relay serve --store ./relay-data --host 0.0.0.0 --port 8788',
        'gemwh relay channel create --store ./relay-data --public-url https://relay.example.com',
        'gemwh relay token create --store ./relay-data --name alice',
      ],
    },
    SUBCOMMANDS,
  );
}
