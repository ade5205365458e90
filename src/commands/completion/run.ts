import type { Command } from 'commander';
import { generateCompletion, type Shell } from '../../completion/generate.js';
import type { CommandContext } from '../context.js';

/** `gemwh completion <shell>`: the script for the whole command tree `program` is the root of. */
export function runCompletion(options: { shell: Shell; program: Command }, ctx: CommandContext): void {
  ctx.out.write(generateCompletion(options.shell, options.program));
}
