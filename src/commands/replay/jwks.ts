import { Command, Option } from 'commander';
import { completeWith } from '../../completion/hints.js';
import type { Deps } from '../../deps.js';

export default function replayJwksCommand(deps: Deps): Command {
  return new Command('jwks')
    .summary("print the public JWKS of gemwh's development JWT key")
    .description(
      'Print (or write) the public JWKS matching the key `replay fixture --dynamic` signs with, so a receiver ' +
        'can trust it. The key is created on first use and kept (0600) in the gemwh config folder.',
    )
    .addOption(completeWith(new Option('--jwks-out <file>', 'write the JWKS to this file instead of stdout'), 'files'))
    .addOption(new Option('--json', 'print the JWKS with kid, issuer, algorithm and claim details'))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh replay jwks > jwks.json\n' +
        '  $ gemwh replay jwks --jwks-out ./public/.well-known/jwks.json\n' +
        "  $ gemwh replay jwks --json | jq -r .kid\n",
    )
    .action(async (flags: { jwksOut?: string; json?: boolean }, command: Command) => {
      const [{ runReplayJwks }, { contextOf }] = await Promise.all([import('./run-jwks.js'), import('../context.js')]);
      await runReplayJwks({ jwksOut: flags.jwksOut, json: flags.json === true }, contextOf(deps, command));
    });
}
