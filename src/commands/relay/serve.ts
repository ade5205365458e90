import { Command, Option } from 'commander';
import type { Deps } from '../../deps.js';
import { parseDurationSeconds } from '../../flags/duration.js';
import { parseByteSize, parsePort } from '../../flags/values.js';
import { collect } from '../collect.js';
import { run, storeFrom, storeOption, type StoreFlags } from './options.js';

export default function relayServeCommand(deps: Deps): Command {
  return new Command('serve')
    .summary('run the relay server')
    .description(
      'Receive deliveries on POST /in/<channel>/…, store them (fsync\'d, or in Redis) before answering 2xx, ' +
        'and stream them to subscribed clients on GET /c/<channel> (server-sent events, Authorization: Bearer <token>). ' +
        'GET /healthz answers 200 while serving. Bodies and signatures are never logged. SIGTERM finishes the ' +
        'deliveries being stored, then exits.',
    )
    .addOption(new Option('--host <address>', 'address to listen on').default('127.0.0.1'))
    .addOption(new Option('--port <n>', 'port to listen on (0: any free port)').default('8788'))
    .addOption(storeOption())
    .addOption(new Option('--retention <duration>', 'how long deliveries are kept for clients that were offline').default('72h'))
    .addOption(new Option('--max-body <size>', 'largest delivery accepted').default('1MiB'))
    .addOption(new Option('--verify-secret-env <VAR>', 'refuse deliveries not signed with the secret in $VAR (repeatable: rotation)').argParser(collect))
    .addOption(new Option('--jwks-url <url>', 'refuse dynamic-webhook deliveries whose JWT these keys do not verify'))
    .addOption(new Option('--tolerance <duration>', 'allowed clock skew of webhook-timestamp / JWT times (edge verification)').default('5m'))
    .addOption(new Option('--ready-file <file>', 'write the URL to this file once listening'))
    .addOption(new Option('--json', 'print {"url": …} on stdout when ready'))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ gemwh relay serve --store ./relay-data --host 0.0.0.0\n' +
        '  $ gemwh relay serve --store redis://redis:6379 --port 8788 --retention 24h\n' +
        '  $ gemwh relay serve --store ./relay-data --verify-secret-env GEMINI_WEBHOOK_SECRET\n',
    )
    .action(async (flags: StoreFlags & { host: string; port: string; maxBody: string; verifySecretEnv?: string[]; jwksUrl?: string; tolerance: string; readyFile?: string }, command: Command) => {
      await run((m) => m.runRelayServe, {
        ...storeFrom(flags, deps),
        host: flags.host,
        port: parsePort(flags.port),
        maxBodyBytes: parseByteSize(flags.maxBody, '--max-body'),
        verifySecretEnv: flags.verifySecretEnv ?? [],
        jwksUrl: flags.jwksUrl,
        toleranceSec: parseDurationSeconds(flags.tolerance, '--tolerance'),
        readyFile: flags.readyFile,
        json: flags.json === true,
      }, deps, command);
    });
}
