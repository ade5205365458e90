import { Command, Option } from 'commander';
import type { Deps } from '../../deps.js';

export default function versionCommand(deps: Deps): Command {
  return new Command('version')
    .summary('print the gemwh version (also -v, -V, --version)')
    .description('Print the gemwh version; with --json also the Node.js version and platform, for bug reports.')
    .addOption(new Option('--json', 'print {"version", "node", "platform"} as JSON'))
    .addHelpText('after', '\nExamples:\n  $ gemwh version\n  $ gemwh version --json\n')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const [{ runVersion }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      runVersion({ json: flags.json === true }, contextOf(deps, command));
    });
}
