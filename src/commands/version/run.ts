import type { CommandContext } from '../context.js';
import { VERSION } from '../../version.js';

/** `gemwh version`: the version alone, or with --json what a bug report needs besides. */
export function runVersion(options: { json: boolean }, ctx: CommandContext): void {
  if (options.json) ctx.out.write(`${JSON.stringify({ version: VERSION, node: process.versions.node, platform: `${process.platform}-${process.arch}` })}\n`);
  else ctx.out.write(`${VERSION}\n`);
}
