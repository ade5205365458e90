import { Argument, Command, Option } from 'commander';
import { completeWith } from '../../completion/hints.js';
import { parseDuration } from '../../flags/duration.js';
import type { Deps } from '../../deps.js';
import { collect } from '../collect.js';

interface RawFlags {
  webhook?: string[];
  all?: boolean;
  set?: string[];
  dynamic?: boolean;
  uri?: string[];
  metadata?: string[];
  wait?: boolean;
  waitTimeout: string;
  json?: boolean;
}

export default function triggerCommand(deps: Deps): Command {
  return new Command('trigger')
    .summary('make the emulator send an event to its webhooks (or to --uri, dynamic)')
    .description(
      'Ask a running `gemwh emulator` to send an event the way Gemini does: the fixture payload (with --set ' +
        'changes), signed per Standard Webhooks with every valid secret of each enabled webhook subscribed to ' +
        'the type, or with --dynamic an RS256 JWT to the --uri URLs (verify against <emulator>/.well-known/jwks.json). ' +
        'The emulator delivers and retries in the background; `gemwh emulator deliveries` lists the attempts. ' +
        'Works only against the emulator (--api-root or GEMWH_API_ROOT), never the real API.',
    )
    .addArgument(completeWith(new Argument('<type>', 'event type from the catalog (gemwh events)'), 'event-types'))
    .addOption(new Option('--webhook <id>', 'send only to this webhook (repeatable; default: every subscribed one)').argParser(collect))
    .addOption(new Option('--all', 'send to every enabled webhook, subscribed to the type or not'))
    .addOption(new Option('--set <path=value>', 'change a data field, e.g. data.id=batches/123 (JSON or text; repeatable)').argParser(collect))
    .addOption(new Option('--dynamic', "deliver like a job's webhook_config: to --uri, signed with an RS256 JWT"))
    .addOption(new Option('--uri <url>', 'dynamic delivery target (repeatable; implies --dynamic)').argParser(collect))
    .addOption(new Option('--metadata <key=value>', 'user_metadata echoed in data.user_metadata (repeatable)').argParser(collect))
    .addOption(new Option('--wait', 'wait for the first attempt of every delivery; exit 9 if one failed'))
    .addOption(new Option('--wait-timeout <duration>', 'how long --wait waits').default('30s'))
    .addOption(new Option('--json', 'print the deliveries as JSON'))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh trigger batch.succeeded --api-root http://127.0.0.1:8790 --set data.id=batches/123\n' +
        '  $ gemwh trigger video.generated --webhook k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --wait\n' +
        '  $ gemwh trigger interaction.completed --dynamic --uri http://127.0.0.1:8787/hook --metadata tenant=acme\n',
    )
    .action(async (eventType: string, flags: RawFlags, command: Command) => {
      const [{ runTrigger }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runTrigger(
        {
          eventType,
          webhookIds: flags.webhook ?? [],
          all: flags.all === true,
          sets: flags.set ?? [],
          dynamic: flags.dynamic === true,
          uris: flags.uri ?? [],
          metadata: flags.metadata ?? [],
          wait: flags.wait === true,
          waitTimeoutMs: parseDuration(flags.waitTimeout, '--wait-timeout'),
          json: flags.json === true,
        },
        contextOf(deps, command),
      );
    });
}
