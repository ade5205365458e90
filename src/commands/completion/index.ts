import { Argument, Command } from 'commander';
import type { Deps } from '../../deps.js';
import { SHELLS, type Shell } from '../../completion/shells.js';

export default function completionCommand(deps: Deps): Command {
  return new Command('completion')
    .summary('print the shell completion script for bash, zsh, fish or PowerShell')
    .description('Print a completion script for your shell: commands, options, option values and event types.')
    .addArgument(new Argument('<shell>', 'the shell to complete for').choices(SHELLS))
    .addHelpText(
      'after',
      '\nInstall:\n' +
        "  bash        echo 'source <(gemwh completion bash)' >> ~/.bashrc\n" +
        "  zsh         echo 'source <(gemwh completion zsh)' >> ~/.zshrc     (after compinit)\n" +
        '  fish        gemwh completion fish > ~/.config/fish/completions/gemwh.fish\n' +
        "  PowerShell  Add-Content $PROFILE 'gemwh completion powershell | Out-String | Invoke-Expression'\n" +
        '\nExamples:\n' +
        '  $ gemwh completion bash > ~/.local/share/bash-completion/completions/gemwh\n' +
        '  $ gemwh completion zsh > ~/.zfunc/_gemwh\n' +
        '  $ gemwh completion fish | source\n',
    )
    .action(async (shell: Shell, _flags: unknown, command: Command) => {
      const [{ runCompletion }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      let root = command;
      while (root.parent) root = root.parent;
      runCompletion({ shell, program: root }, contextOf(deps, command));
    });
}
