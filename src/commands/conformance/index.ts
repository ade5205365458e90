import { Argument, Command, Option } from 'commander';
import { webhookOption } from '../secret-options.js';
import { completeWith } from '../../completion/hints.js';
import { parsePositiveDuration } from '../../flags/duration.js';
import { parseTarget } from '../../flags/target.js';
import type { Deps } from '../../deps.js';
import { parsePort } from '../../flags/values.js';
import type { ConformanceOptions } from './run.js';
import { answerTimeoutOption, insecureOption } from '../receiver-options.js';

interface RawFlags {
  secret?: string;
  secretEnv?: string;
  webhook?: string;
  dynamic?: boolean;
  audience?: string;
  jwksPort?: string;
  only?: string;
  json?: boolean;
  report?: string;
  timeout: string;
  insecure?: boolean;
}

export default function conformanceCommand(deps: Deps): Command {
  return new Command('conformance')
    .summary('attack your own webhook receiver with a battery of deliveries and score it')
    .description(
      'Send your running receiver a battery of deliveries (valid ones of every event type; forged, stale, ' +
        'malformed, duplicated and oversized ones) and report, case by case, whether it accepted what it must ' +
        'accept and refused what it must refuse, and what each failure exposes. ' +
        'Exit 9 when a must-case fails, 7 when the receiver cannot be reached.',
    )
    .addArgument(new Argument('<url>', 'the receiver: PORT, HOST:PORT/PATH or a full URL'))
    .addOption(new Option('--secret <whsec>', 'the signing secret the receiver verifies with'))
    .addOption(new Option('--secret-env <var>', 'read that secret from this environment variable'))
    .addOption(webhookOption('sign with every current one of', { repeatable: false }))
    .addOption(new Option('--dynamic', "test JWT (dynamic webhook) verification against a JWKS gemwh serves on loopback"))
    .addOption(new Option('--audience <aud>', 'with --dynamic: the aud claim the receiver expects (default: the URL)'))
    .addOption(new Option('--jwks-port <port>', 'with --dynamic: serve the JWKS on this port, so the receiver is configured once'))
    .addOption(new Option('--only <cases>', 'run only these case ids or globs, comma-separated (e.g. "reject-*")'))
    .addOption(new Option('--json', 'print the results as JSON (cases, score, passed)'))
    .addOption(completeWith(new Option('--report <file>', 'also write the results as a Markdown report'), 'files'))
    .addOption(answerTimeoutOption())
    .addOption(insecureOption())
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh conformance localhost:3000/webhooks/gemini --secret-env GEMINI_WEBHOOK_SECRET\n' +
        "  $ gemwh conformance https://staging.example.com/hook --webhook k0h9q38f6ejj --only 'reject-*' --json\n" +
        '  $ gemwh conformance 8080 --dynamic --jwks-port 8799 --report conformance.md\n',
    )
    .action(async (url: string, _flags: RawFlags, command: Command) => {
      const options = toConformanceOptions(url, command.optsWithGlobals<RawFlags>());
      const [{ runConformance }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runConformance(options, contextOf(deps, command));
    });
}

export function toConformanceOptions(url: string, flags: RawFlags): ConformanceOptions {
  return {
    url: parseTarget(url).url,
    secret: flags.secret,
    secretEnv: flags.secretEnv,
    webhookId: flags.webhook,
    dynamic: flags.dynamic === true,
    audience: flags.audience,
    jwksPort: flags.jwksPort === undefined ? undefined : parsePort(flags.jwksPort, { flag: '--jwks-port', min: 1, example: 8799 }),
    only: (flags.only ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    json: flags.json === true,
    reportFile: flags.report,
    timeoutMs: parsePositiveDuration(flags.timeout, '--timeout'),
    insecure: flags.insecure === true,
  };
}

