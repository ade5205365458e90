import { Argument, Command, Option } from 'commander';
import { completeWith } from '../../completion/hints.js';
import type { Deps } from '../../deps.js';

export default function eventsCommand(deps: Deps): Command {
  return new Command('events')
    .summary('list the webhook event types, or print one type’s sample payload')
    .description(
      'List the Gemini webhook event types: the 7 of the API enum and the 2 the guide also names. ' +
        'With a TYPE, print its sample payload (a fixture file you can copy and edit, then send with ' +
        '`gemwh replay fixture FILE`). A pattern such as batch.* filters the list.',
    )
    .addArgument(completeWith(new Argument('[type]', 'event type, or a pattern such as batch.*'), 'event-types'))
    .addOption(new Option('--json', 'print the list as JSON'))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh events\n' +
        '  $ gemwh events batch.failed > my-event.json\n' +
        "  $ gemwh events 'interaction.*' --json\n",
    )
    .action(async (type: string | undefined, flags: { json?: boolean }, command: Command) => {
      const [{ runEvents }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runEvents({ type, json: flags.json === true }, contextOf(deps, command));
    });
}
