import { formatJson } from '../../core/table.js';
import type { EmulatorControl } from '../../emulator/control-client.js';
import { openEmulatorControl } from '../../emulator/control-client.js';
import type { CommandContext } from '../context.js';

export interface JwksRotateOptions {
  dropOld: boolean;
  json: boolean;
}

interface RotateReply {
  kid: string;
  keys: Array<{ kid: string; retire_time?: string }>;
}

/** `gemwh emulator jwks rotate`: a new signing key for dynamic deliveries; the new kid goes to stdout. */
export async function runJwksRotate(options: JwksRotateOptions, ctx: CommandContext, control?: EmulatorControl): Promise<void> {
  const { deps } = ctx;
  const api = control ?? (await openEmulatorControl('gemwh emulator jwks rotate', ctx.globals, deps));
  const reply = await api.request<RotateReply>('POST', '/_emulator/jwks/rotate', { body: { drop_old: options.dropOld } });
  if (options.json) {
    deps.io.stdout.write(formatJson(reply));
    return;
  }
  deps.io.stdout.write(`${reply.kid}\n`);
  const old = reply.keys.filter((k) => k.retire_time !== undefined);
  deps.io.stderr.write(
    [
      `New signing key ${reply.kid} published at ${api.root}/.well-known/jwks.json.`,
      ...(options.dropOld
        ? ['Older keys were withdrawn at once: tokens they signed no longer verify.']
        : old.map((k) => `Still published until ${k.retire_time}: ${k.kid}`)),
      '',
    ].join('\n'),
  );
}
