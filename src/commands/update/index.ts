import { Command, Option } from 'commander';
import type { Deps } from '../../deps.js';
import { collect } from '../collect.js';

export default function updateCommand(deps: Deps): Command {
  return new Command('update')
    .summary("change a webhook's uri, events, name or state")
    .description(
      'Change only the fields given. --events replaces the subscribed events; --add-events and --remove-events ' +
        'edit the current list (read first with get); when that leaves the list as it was, nothing is sent. ' +
        'At least one field is required.',
    )
    .argument('<id>', 'webhook id (see gemwh list)')
    .option('--uri <url>', 'new https endpoint')
    .option('--events <types>', 'replace the subscribed events (comma-separated or repeated)', collect)
    .option('--add-events <types>', 'subscribe to more event types', collect)
    .option('--remove-events <types>', 'unsubscribe from event types', collect)
    .option('--name <name>', 'new display name')
    .addOption(new Option('--state <state>', 'turn deliveries on or off').choices(['enabled', 'disabled']))
    .option('--allow-unknown-events', "send event types gemwh's catalog does not know (the API's enum is open)")
    .option('--json', 'print the updated webhook as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh update k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --add-events batch.expired\n' +
        '  $ gemwh update k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --state disabled\n' +
        '  $ gemwh update k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --uri https://hooks.example.com/v2 --name prod --json\n',
    )
    .action(
      async (
        id: string,
        opts: { uri?: string; events?: string[]; addEvents?: string[]; removeEvents?: string[]; name?: string; state?: string; allowUnknownEvents?: boolean; json?: boolean },
        command: Command,
      ) => {
        const [{ runUpdate }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
        await runUpdate(
          {
            id,
            uri: opts.uri,
            events: opts.events,
            addEvents: opts.addEvents,
            removeEvents: opts.removeEvents,
            name: opts.name,
            state: opts.state,
            allowUnknownEvents: opts.allowUnknownEvents === true,
            json: opts.json === true,
          },
          contextOf(deps, command),
        );
      },
    );
}
