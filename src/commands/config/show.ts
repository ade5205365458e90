import { Command, Option } from 'commander';
import type { Deps } from '../../deps.js';

export default function configShowCommand(deps: Deps): Command {
  return new Command('show')
    .summary('print every setting in effect and where it came from')
    .description(
      'Print each setting gemwh would use (the global options, secretEnv and the settings of listen) with its value ' +
        'and its source: a flag, an environment variable (and the .env file that set it), the project file or the ' +
        'user file with the line, or the default. Secrets are never printed whole. Global flags given with it ' +
        'count: `gemwh --api-root 127.0.0.1:9000 config show` shows what that flag does.',
    )
    .addOption(new Option('--json', 'print {files, settings} as JSON'))
    .addHelpText('after', '\nExamples:\n  $ gemwh config show\n  $ gemwh config show --json\n')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const [{ runConfigShow }, { contextOf }] = await Promise.all([import('./run-show.js'), import('../context.js')]);
      await runConfigShow({ json: flags.json === true, globals: globalsOf(rootOf(command)) }, contextOf(deps, command));
    });
}

/** Each global option's value and commander's value source ('cli', 'config', 'default', none). */
function globalsOf(root: Command): Record<string, { value: unknown; source: string | undefined }> {
  const globals: Record<string, { value: unknown; source: string | undefined }> = {};
  for (const option of root.options) {
    const name = option.attributeName();
    globals[name] = { value: root.getOptionValue(name), source: root.getOptionValueSource(name) };
  }
  return globals;
}

function rootOf(command: Command): Command {
  let root = command;
  while (root.parent) root = root.parent;
  return root;
}
