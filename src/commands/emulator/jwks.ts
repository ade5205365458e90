import { Command, Option } from 'commander';
import type { Deps } from '../../deps.js';

/** `gemwh emulator jwks rotate`: steer the keys a running emulator signs dynamic deliveries with. */
export default function emulatorJwksCommand(deps: Deps): Command {
  const jwks = new Command('jwks')
    .summary("manage the emulator's JWKS (the keys of dynamic deliveries)")
    .description("Manage the RS256 keys a running emulator signs dynamic deliveries with, published at <emulator>/.well-known/jwks.json.")
    .addHelpText('after', '\nExamples:\n  $ gemwh emulator jwks rotate\n  $ gemwh emulator jwks rotate --drop-old --api-root http://127.0.0.1:8790\n');
  jwks.addCommand(
    new Command('rotate')
      .summary('sign with a new key; keep the old one published for an hour (emulated)')
      .description(
        'Make a running emulator sign dynamic deliveries with a new RS256 key. The previous key stays in the ' +
        'JWKS for 1 hour of emulated time, so receivers that cached it keep working; --drop-old withdraws it ' +
        'at once (tokens it signed then fail with an unknown kid). Prints the new kid.',
      )
      .addOption(new Option('--drop-old', 'withdraw the previous keys at once'))
      .addOption(new Option('--json', 'print {"kid", "keys"} as JSON'))
      .addHelpText(
        'after',
        '\nExamples:\n  $ gemwh emulator jwks rotate --api-root http://127.0.0.1:8790\n  $ gemwh emulator jwks rotate --drop-old --json\n',
      )
      .action(async (_flags: unknown, sub: Command) => {
        const opts = sub.optsWithGlobals<{ dropOld?: boolean; json?: boolean }>();
        const [{ runJwksRotate }, { contextOf }] = await Promise.all([import('./run-jwks-rotate.js'), import('../context.js')]);
        await runJwksRotate({ dropOld: opts.dropOld === true, json: opts.json === true }, contextOf(deps, sub));
      }),
  );
  return jwks;
}
