import { Command, Option } from 'commander';
import { completeWith } from '../../completion/hints.js';
import type { Deps } from '../../deps.js';
import { parseGrace } from '../../flags/values.js';

export default function rotateCommand(deps: Deps): Command {
  return new Command('rotate')
    .summary('rotate the signing secret of a webhook')
    .description(
      'Mint a new signing secret. With --grace 24h (the default) the previous secrets keep working for 24 hours ' +
        'and gemwh keeps them locally until then, so gemwh listen accepts both; --grace 0 revokes them at once. ' +
        'The API offers only these two. The new secret is stored (the store is checked first), or printed with --print-secret.',
    )
    .argument('<id>', 'webhook id (see gemwh list)')
    // Not .choices(): that would refuse `immediate`, which the help offers as a spelling of 0.
    .addOption(
      completeWith(new Option('--grace <period>', '24h (previous secrets valid 24 more hours) or 0 / immediate (revoked now)').default('24h'), {
        values: ['24h', '0'],
      }),
    )
    .option('--print-secret', 'print the new secret on stdout (alone, for piping); storing it becomes optional')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh rotate k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f\n' +
        '  $ gemwh rotate k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --grace 0\n' +
        '  $ gemwh rotate k0h9q38f6ejj1g9j7cgcdsauadmbewegl79f --print-secret | vault kv put secret/gemini-webhook value=-\n',
    )
    .action(async (id: string, opts: { grace: string; printSecret?: boolean; json?: boolean }, command: Command) => {
      const [{ runRotate }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runRotate(
        { id, grace: parseGrace(opts.grace), printSecret: opts.printSecret === true, json: opts.json === true },
        contextOf(deps, command),
      );
    });
}
