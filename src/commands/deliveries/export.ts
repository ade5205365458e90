import { Command, Option } from 'commander';
import { completeWith } from '../../completion/hints.js';
import { parseTarget } from '../../flags/target.js';
import type { Deps } from '../../deps.js';
import { EXPORT_FORMATS, type ExportFormat } from '../../deliveries/export-formats.js';
import { deliveryIdArgument, deliveryRef, journalOption } from '../journal-options.js';

interface RawFlags {
  last?: boolean;
  as: ExportFormat;
  to?: string;
  output?: string;
  journal?: string;
}

export default function deliveriesExportCommand(deps: Deps): Command {
  return new Command('export')
    .summary('write a recorded delivery as a raw HTTP request, a curl command or a fixture file')
    .description(
      'Write one recorded delivery in a form other tools take: --as http, the request as received (request line, ' +
        'headers, blank line, the body byte for byte), which `gemwh verify --headers FILE` reads whole; --as curl, a ' +
        'command that sends the same bytes and headers again (to --to, default the host it was sent to); --as fixture, ' +
        'the JSON body, which `gemwh replay fixture FILE` signs and sends anew.',
    )
    .addArgument(deliveryIdArgument())
    .addOption(new Option('--last', 'the most recent delivery (of any verdict)'))
    .addOption(new Option('--as <format>', 'what to write').choices(EXPORT_FORMATS).default('http'))
    .addOption(new Option('--to <target>', 'with --as curl: where the command posts (PORT, HOST:PORT[/PATH] or URL)'))
    .addOption(completeWith(new Option('-o, --output <file>', 'write to this file instead of stdout'), 'files'))
    .addOption(journalOption())
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh deliveries export --last --as http -o request.http && gemwh verify --headers request.http --secret-env GEMINI_WEBHOOK_SECRET\n' +
        '  $ gemwh deliveries export msg_2Kq8 --as curl --to 3000 | sh\n' +
        '  $ gemwh deliveries export msg_2Kq8 --as fixture -o event.json && gemwh replay fixture event.json --to 3000 --secret-env GEMINI_WEBHOOK_SECRET\n',
    )
    .action(async (id: string | undefined, _flags: RawFlags, command: Command) => {
      const flags = command.optsWithGlobals<RawFlags>();
      const ref = deliveryRef(id, flags.last, 'gemwh deliveries export --last --as curl');
      const target = flags.to === undefined ? undefined : parseTarget(flags.to);
      const [{ runDeliveriesExport }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runDeliveriesExport({ ref, as: flags.as, target, output: flags.output, journal: flags.journal }, contextOf(deps, command));
    });
}
