import { Command, Option } from 'commander';
import { EMULATOR_DEFAULT_HOST, EMULATOR_DEFAULT_PORT } from '../../api/api-root.js';
import { parseDuration } from '../../flags/duration.js';
import type { Deps } from '../../deps.js';
import { parseNonEmpty, parsePort, parseRate } from '../../flags/values.js';
import { renderGuesses, UPDATE_MASK_MODES, type UpdateMaskMode } from '../../emulator/fidelity.js';
import type { CommandFactory } from '../command-factory.js';
import { addDeliveryOptions, deliveryOptionsFrom, type DeliveryFlags } from './delivery-options.js';

// The subcommands that inspect and steer a running emulator, in help order.
const SUBCOMMANDS: Array<{ default: CommandFactory }> = await Promise.all([import('./deliveries.js'), import('./jwks.js')]);

export default function emulatorCommand(deps: Deps): Command {
  const command = new Command('emulator')
    .summary('run a local WebhookService (same REST API) for offline work and CI')
    .description(
      'Run a local emulator of the Gemini WebhookService: create, list, get, update, delete, ping and ' +
        'rotateSigningSecret under /v1/webhooks (and /v1beta/), as strict as the live API was seen to be, with ' +
        'Google-shaped errors. Prints its base ' +
        'URL on stdout when ready and runs until Ctrl-C. Point gemwh at it with --api-root URL or ' +
        'GEMWH_API_ROOT=URL. Apps using @google/genai with httpOptions.baseUrl set to it can run background ' +
        'interactions, batches and generateVideos: each ends after --job-delay and sends its webhook.',
    )
    .addOption(new Option('--host <host>', 'interface to listen on').default(EMULATOR_DEFAULT_HOST))
    .addOption(new Option('--port <port>', 'port to listen on (0 picks a free one)').default(EMULATOR_DEFAULT_PORT).argParser((value: string) => parsePort(value, { example: EMULATOR_DEFAULT_PORT })))
    .addOption(new Option('--state <file>', 'keep webhooks, their secrets and the JWT keys in this file (0600) across restarts'))
    .addOption(new Option('--api-key <key>', 'require exactly this API key (default: any non-empty key)'))
    .addOption(new Option('--job-delay <duration>', 'emulated time before an interaction, batch or video job ends and sends its event').default('2s'))
    .addOption(new Option('--fail-rate <r>', 'share (0..1) of interactions and batches that end in *.failed instead').default('0'))
    .addOption(
      new Option('--update-mask <mode>', "PATCH: 'ignore' update_mask and apply the body's fields (as observed on the live API) or 'honor' it (as the reference reads)")
        .choices(UPDATE_MASK_MODES)
        .default('ignore'),
    )
    .addOption(new Option('--jwt-audience <aud>', "the aud claim of dynamic deliveries' JWTs (default: the URI each is sent to, a guess)"))
    .addOption(new Option('--jwt-issuer <iss>', "the iss claim of dynamic deliveries' JWTs (default: the emulator's base URL, a guess)"));
  addDeliveryOptions(command);
  command
    .addOption(new Option('--quiet', 'do not log each request on stderr'))
    .addOption(new Option('--json', 'print {"url": ...} on stdout when ready'))
    .addHelpText(
      'after',
      "\nWhere Google documents nothing and nothing was observed, the emulator guesses\n(gemwh help emulation lists every behaviour and its source):\n" +
        renderGuesses() +
        '\n\nExamples:\n' +
        '  $ gemwh emulator\n' +
        '  $ gemwh emulator --port 0 --state ./emulator-state.json --json\n' +
        '  $ GEMWH_API_ROOT=http://127.0.0.1:8790 GEMINI_API_KEY=dev gemwh list\n',
    )
    .action(async (_options: unknown, command: Command) => {
      // optsWithGlobals: --api-key is also a root option, and lands there when given before `emulator`.
      const opts = command.optsWithGlobals<DeliveryFlags & {
        host: string;
        port: number;
        state?: string;
        apiKey?: string;
        json?: boolean;
        quiet?: boolean;
        jobDelay: string;
        failRate: string;
        updateMask: UpdateMaskMode;
        jwtAudience?: string;
        jwtIssuer?: string;
      }>();
      const jobs = { delayMs: parseDuration(opts.jobDelay, '--job-delay'), failRate: parseRate(opts.failRate, '--fail-rate') };
      const delivery = {
        ...deliveryOptionsFrom(opts, opts.quiet ? undefined : (line) => deps.io.stderr.write(`${line}\n`)),
        jwtAudience: parseNonEmpty(opts.jwtAudience, '--jwt-audience', 'https://hooks.example.com/gemini'),
        jwtIssuer: parseNonEmpty(opts.jwtIssuer, '--jwt-issuer', 'https://hooks.example.com/gemini'),
      };
      const [{ runEmulator }, { contextOf }] = await Promise.all([import('./run.js'), import('../context.js')]);
      await runEmulator(
        { host: opts.host, port: opts.port, stateFile: opts.state, apiKey: opts.apiKey, json: opts.json === true, quiet: opts.quiet === true, jobs },
        contextOf(deps, command),
        { delivery, updateMask: opts.updateMask },
      );
    });
  for (const module of SUBCOMMANDS) command.addCommand(module.default(deps));
  return command;
}
