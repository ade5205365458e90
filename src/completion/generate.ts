import type { Command } from 'commander';
import { bashScript } from './bash.js';
import { fishScript } from './fish.js';
import { buildCompletionModel } from './model.js';
import { powershellScript } from './powershell.js';
import type { Shell } from './shells.js';
import { zshScript } from './zsh.js';

export { COMPLETION_FILES, SHELLS, type Shell } from './shells.js';

export function generateCompletion(shell: Shell, program: Command): string {
  const model = buildCompletionModel(program);
  switch (shell) {
    case 'bash':
      return bashScript(model);
    case 'zsh':
      return zshScript(model);
    case 'fish':
      return fishScript(model);
    case 'powershell':
      return powershellScript(model);
  }
}
