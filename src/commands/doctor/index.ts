import { Command, Option } from 'commander';
import type { Deps } from '../../deps.js';

export default function doctorCommand(deps: Deps): Command {
  return new Command('doctor')
    .summary('check what listen --tunnel and the API commands need, with the fix for each')
    .description(
      'Checks that a tunnel tool is installed (cloudflared or ngrok, and ngrok\'s auth token), that ' +
        'an API key is set, that the secret store (OS keychain or file) is usable and that the API ' +
        'root answers and accepts the key. Prints each check with the way out when it fails; ' +
        'exits 9 if one failed.',
    )
    .addOption(new Option('--json', 'print {"ok", "checks": [{"name", "status", "detail", "fix"}]} as JSON'))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh doctor\n' +
        '  $ gemwh doctor --json\n' +
        '  $ gemwh --secret-store file --api-root http://127.0.0.1:8790 doctor\n',
    )
    .action(async (_flags: { json?: boolean }, command: Command) => {
      const flags = command.optsWithGlobals<{ json?: boolean } & Record<string, unknown>>();
      const [{ runDoctor }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runDoctor({ json: flags.json === true }, contextOf(deps, command));
    });
}
