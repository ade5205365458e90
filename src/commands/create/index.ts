import { Command } from 'commander';
import type { Deps } from '../../deps.js';
import { collect } from '../collect.js';

export default function createCommand(deps: Deps): Command {
  return new Command('create')
    .summary('create a webhook and keep its signing secret in the secret store')
    .description(
      'Create a static webhook. The API shows its signing secret only once, in this reply: gemwh stores it in ' +
        'the secret store (checked before the webhook is created) and says where. stdout gets the new id, ' +
        'or the secret alone with --print-secret, or the webhook as JSON with --json.',
    )
    .requiredOption('--uri <url>', 'https URL Gemini POSTs events to')
    .requiredOption('--events <types>', 'event types, comma-separated or repeated (e.g. batch.succeeded,video.generated)', collect)
    .option('--name <name>', 'a display name')
    .option('--allow-unknown-events', "send event types gemwh's catalog does not know (the API's enum is open)")
    .option('--print-secret', 'print the signing secret on stdout (alone, for piping); storing it becomes optional')
    .option('--json', 'print the created webhook as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh create --uri https://hooks.example.com/gemini --events batch.succeeded,batch.failed --name batches\n' +
        '  $ gemwh create --uri https://hooks.example.com/video --events video.generated --json\n' +
        '  $ gemwh create --uri https://hooks.example.com/ci --events interaction.completed --print-secret > secret.txt\n',
    )
    .action(async (opts: { uri: string; events: string[]; name?: string; allowUnknownEvents?: boolean; printSecret?: boolean; json?: boolean }, command: Command) => {
      const [{ runCreate }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runCreate(
        {
          uri: opts.uri,
          events: opts.events,
          name: opts.name,
          allowUnknownEvents: opts.allowUnknownEvents === true,
          printSecret: opts.printSecret === true,
          json: opts.json === true,
        },
        contextOf(deps, command),
      );
    });
}
