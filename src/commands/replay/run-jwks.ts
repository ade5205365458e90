import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DEV_ISSUER, JWT_LIFETIME_SECONDS, toJwks } from '../../core/jwt-sign.js';
import { formatJson } from '../../core/table.js';
import { UsageError } from '../../errors.js';
import { devKeyPath, loadOrCreateDevKey } from '../../devkey/dev-key.js';
import type { CommandContext } from '../context.js';

export interface ReplayJwksOptions {
  /** Write the JWKS to this file instead of stdout. */
  jwksOut?: string;
  json: boolean;
}

/**
 * Publishes the public half of gemwh's dev key, so a receiver can trust `replay fixture --dynamic`.
 * Plain: the JWKS document itself on stdout (what a jwks.json URL would serve), notes on stderr.
 * --json: the JWKS plus what a receiver must check (kid, issuer, algorithm, body hash encoding).
 */
export async function runReplayJwks(options: ReplayJwksOptions, ctx: CommandContext): Promise<void> {
  const { deps } = ctx;
  const key = await loadOrCreateDevKey(deps.paths, deps.clock.now());
  const jwks = toJwks([key]);
  let written: string | undefined;
  if (options.jwksOut !== undefined) {
    written = resolve(options.jwksOut);
    try {
      await writeFile(written, formatJson(jwks));
    } catch (error) {
      throw new UsageError(`cannot write ${written}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
        hint: 'Give --jwks-out a path in a folder you can write to.',
        cause: error,
      });
    }
  }
  if (options.json) {
    deps.io.stdout.write(
      formatJson({
        jwks,
        kid: key.kid,
        alg: 'RS256',
        issuer: DEV_ISSUER,
        audience: 'the URL each delivery is sent to (replay fixture --audience overrides it)',
        lifetimeSeconds: JWT_LIFETIME_SECONDS,
        bodySha256Encoding: 'base64url',
        keyFile: devKeyPath(deps.paths),
        ...(written !== undefined ? { jwksOut: written } : {}),
      }),
    );
  } else if (written === undefined) {
    deps.io.stdout.write(formatJson(jwks));
  }
  deps.io.stderr.write(
    `gemwh: development JWKS (kid ${key.kid}, RS256, iss "${DEV_ISSUER}")` +
      (written !== undefined ? ` written to ${written}` : '') +
      `; private key in ${devKeyPath(deps.paths)}\n`,
  );
}
