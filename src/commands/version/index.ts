import { Command, Option } from 'commander';
import type { Deps } from '../../deps.js';
import { VERSION } from '../../version.js';

export default function versionCommand(deps: Deps): Command {
  return new Command('version')
    .summary('print the gemwh version (also -v, -V, --version)')
    .description('Print the gemwh version; with --json also the Node.js version and platform, for bug reports.')
    .addOption(new Option('--json', 'print {"version", "node", "platform"} as JSON'))
    .addHelpText('after', '\nExamples:\n  $ gemwh version\n  $ gemwh version --json\n')
    .action((flags: { json?: boolean }) => {
      deps.io.stdout.write(
        flags.json ? `${JSON.stringify({ version: VERSION, node: process.versions.node, platform: `${process.platform}-${process.arch}` })}\n` : `${VERSION}\n`,
      );
    });
}
