import { Command, Option } from 'commander';
import { completeWith } from '../../completion/hints.js';
import { parseDurationSeconds, parseInstant } from '../../flags/duration.js';
import type { Deps } from '../../deps.js';
import type { VerifyOptions } from './run.js';
import { collect } from '../collect.js';
import { journalOption } from '../journal-options.js';
import { secretOption, webhookOption } from '../secret-options.js';

interface RawFlags {
  body?: string;
  header: string[];
  headers?: string;
  secret?: string[];
  secretEnv?: string[];
  webhook?: string[];
  jwksUrl?: string;
  jwksFile?: string;
  audience?: string;
  issuer?: string;
  now?: string;
  tolerance: string;
  json?: boolean;
  delivery?: string;
  journal?: string;
}

export default function verifyCommand(deps: Deps): Command {
  return new Command('verify')
    .summary('diagnose a captured delivery offline: valid, or exactly why not')
    .description(
      'Verify one captured webhook delivery (body + headers) and explain the verdict. Give the body with --body, ' +
        'or pass a whole saved HTTP request (headers, blank line, body) as --headers alone. Static deliveries ' +
        '(webhook-signature: v1,<base64>) are checked with the signing secret(s); dynamic ones (an RS256 JWT in ' +
        'webhook-signature) with a JWKS (default: Google’s). On failure the diagnosis names the likely cause: clock ' +
        'skew, re-serialized JSON, an expired or wrong secret, renamed or cut headers. Exit 0 when valid, 3 when not, ' +
        '2 for bad input.',
    )
    .addOption(completeWith(new Option('--body <file>', 'the body exactly as received; - reads stdin (not needed when --headers is a whole saved HTTP message)'), 'files'))
    .addOption(new Option('--header <"name: value">', 'a received header (repeatable; overrides --headers)').default([]).argParser(collect))
    .addOption(
      completeWith(
        new Option('--headers <file>', 'received headers: HTTP header lines (a request/status line first is fine) or a JSON object; a whole saved HTTP message (headers, blank line, body) also gives the body'),
        'files',
      ),
    )
    .addOption(secretOption('verify with'))
    .addOption(
      new Option('--secret-env <var>', 'verify with the secret in this environment variable (repeatable; it may hold several, space-separated)').argParser(
        collect,
      ),
    )
    .addOption(webhookOption('verify with', { repeatable: true }))
    .addOption(new Option('--jwks-url <url>', 'JWKS for dynamic (JWT) deliveries').default(undefined, "Google's JWKS"))
    .addOption(completeWith(new Option('--jwks-file <file>', 'JWKS from a local file (offline)').conflicts('jwksUrl'), 'files'))
    .addOption(new Option('--audience <aud>', 'require this JWT aud claim'))
    .addOption(new Option('--issuer <iss>', 'require this JWT iss claim'))
    .addOption(new Option('--now <time>', 'verify as of this time (epoch seconds or ISO 8601), for old captures'))
    .addOption(new Option('--tolerance <duration>', 'allowed clock skew (300, 5m, 2h, 1d)').default('5m'))
    .addOption(new Option('--delivery <id>', 'verify a delivery `gemwh listen` recorded (webhook-id, journal key or a unique prefix), as of when it arrived').conflicts(['body', 'headers']))
    .addOption(journalOption())
    .addOption(new Option('--json', 'print the verdict as JSON'))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh verify --body body.json --headers headers.txt --secret-env GEMINI_WEBHOOK_SECRET\n' +
        "  $ gemwh verify --body body.json --header 'webhook-id: msg_2Kx' --header 'webhook-timestamp: 1777896000' \\\n" +
        "      --header 'webhook-signature: v1,K5oZ…=' --secret whsec_MfKQ… --now 1777896000\n" +
        '  $ gemwh verify --delivery msg_2Kq8 --webhook k0h9q38f6ejj\n',
    )
    .action(async (_flags: RawFlags, command: Command) => {
      const options = toVerifyOptions(command.optsWithGlobals<RawFlags>());
      const [{ runVerify }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runVerify(options, contextOf(deps, command));
    });
}

export function toVerifyOptions(flags: RawFlags): VerifyOptions {
  return {
    body: flags.body,
    headerLines: flags.header,
    headersFile: flags.headers,
    secrets: flags.secret ?? [],
    secretEnv: flags.secretEnv ?? [],
    webhookIds: flags.webhook ?? [],
    jwksUrl: flags.jwksUrl,
    jwksFile: flags.jwksFile,
    audience: flags.audience,
    issuer: flags.issuer,
    now: flags.now === undefined ? undefined : parseInstant(flags.now, '--now'),
    toleranceSec: parseDurationSeconds(flags.tolerance, '--tolerance'),
    json: flags.json === true,
    delivery: flags.delivery?.trim() || undefined,
    journal: flags.journal,
  };
}
