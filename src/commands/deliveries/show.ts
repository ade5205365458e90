import { Command, Option } from 'commander';
import type { Deps } from '../../deps.js';
import { deliveryIdArgument, deliveryRef, journalOption } from '../journal-options.js';

interface RawFlags {
  last?: boolean;
  journal?: string;
  json?: boolean;
}

export default function deliveriesShowCommand(deps: Deps): Command {
  return new Command('show')
    .summary('one recorded delivery: headers, body, verdict and every forward attempt')
    .description(
      'Show one delivery `gemwh listen` recorded: when and where it arrived, the verdict with its explanation, ' +
        "every forward attempt with the app's answer, the headers and the body. --json prints it all as one object " +
        '(the body as received: text, or base64 when it is not UTF-8).',
    )
    .addArgument(deliveryIdArgument())
    .addOption(new Option('--last', 'the most recent delivery (of any verdict)'))
    .addOption(journalOption())
    .addOption(new Option('--json', 'print the delivery as JSON'))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh deliveries show --last\n' +
        '  $ gemwh deliveries show msg_2Kq8d7Lr0X\n' +
        "  $ gemwh deliveries show 1a2b3c4d.17 --json | jq '.forwards'\n",
    )
    .action(async (id: string | undefined, _flags: RawFlags, command: Command) => {
      const flags = command.optsWithGlobals<RawFlags>();
      const ref = deliveryRef(id, flags.last, 'gemwh deliveries show --last');
      const [{ runDeliveriesShow }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runDeliveriesShow({ ref, journal: flags.journal, json: flags.json === true }, contextOf(deps, command));
    });
}
