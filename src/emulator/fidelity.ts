/**
 * Every behaviour of the emulator that mirrors (or guesses at) the real WebhookService, and where
 * it comes from. This table is the one source of truth: the emulation help topic (src/help-topics/emulation.md) is rendered
 * from it, `gemwh emulator --help` lists its guesses, and test/emulator/fidelity.test.ts checks each
 * row against the emulator by raw HTTP, so the documentation cannot drift from the behaviour.
 */

/** How PATCH treats `update_mask`: as observed on the live API (ignored) or as the reference reads. */
export type UpdateMaskMode = 'ignore' | 'honor';
export const UPDATE_MASK_MODES: readonly UpdateMaskMode[] = ['ignore', 'honor'];

export type FidelitySource = 'reference' | 'guide' | 'sdk' | 'observed' | 'guess';

export interface FidelityRow {
  /** Stable key; the fidelity test has one check per id. */
  id: string;
  behaviour: string;
  source: FidelitySource;
  /** Why, in a few words: which document, which observation, or why this guess. */
  basis: string;
  /** The `gemwh emulator` flag that changes it, if any. */
  flag?: string;
}

export const SOURCE_LABELS: Readonly<Record<FidelitySource, string>> = {
  reference: 'API reference',
  guide: 'guide',
  sdk: 'SDK source',
  observed: 'observed on the live API',
  guess: "gemwh's guess",
};

export const FIDELITY_TABLE: readonly FidelityRow[] = [
  {
    id: 'events-enum',
    behaviour: '`subscribed_events` outside the 7 enum values (`batch.cancelled` and `interaction.cancelled` included) is a 400 `INVALID_ARGUMENT` that lists the 7',
    source: 'observed',
    basis: 'genai-rs probe 2026-07: the error listed exactly the 7 values',
  },
  {
    id: 'camel-case-body',
    behaviour: 'a lowerCamelCase body key on the webhooks endpoints (`subscribedEvents`, `revocationBehavior`) is a 400 "Unknown name … Did you mean …"',
    source: 'observed',
    basis: 'genai-rs probe 2026-07; the job endpoints keep accepting the SDK\'s `webhookConfig`',
  },
  {
    id: 'unknown-body-field',
    behaviour: 'any other unknown body field (`constructor` and `__proto__` too) is a 400 `INVALID_ARGUMENT`',
    source: 'reference',
    basis: 'proto3 JSON parsing, as every Google API answers it',
  },
  {
    id: 'no-timestamps',
    behaviour: '`create_time` / `update_time` are never returned',
    source: 'observed',
    basis: 'genai-rs probe 2026-07; the cookbook prints `None` too',
  },
  {
    id: 'update-mask',
    behaviour: '`update_mask` is ignored: every field present in a PATCH body changes',
    source: 'observed',
    basis: 'genai-rs probe 2026-07; the reference says the mask names the fields to update',
    flag: '--update-mask honor',
  },
  {
    id: 'unknown-query',
    behaviour: 'unknown query parameters are ignored',
    source: 'observed',
    basis: 'genai-rs probe 2026-07',
  },
  {
    id: 'masked-secret',
    behaviour: '`truncated_secret` is `whsec_...` + the last 4 characters of the secret, base64 padding left out (`whsec_...3frh`)',
    source: 'observed',
    basis: 'the masked secret shown in Google\'s published examples',
  },
  {
    id: 'secret-once',
    behaviour: '`new_signing_secret` appears only in the create response',
    source: 'observed',
    basis: 'reference; confirmed by genai-rs probe 2026-07',
  },
  {
    id: 'revocation-enum',
    behaviour: '`revocation_behavior` takes the two lower-case values (the guide\'s upper-case spellings too); anything else is a 400',
    source: 'observed',
    basis: 'lower case validated live; upper case (guide samples) not tried, accepted as proto enum names',
  },
  {
    id: 'ping-empty',
    behaviour: '`:ping` answers `{}` at once, with or without a body, even for an unreachable URI',
    source: 'observed',
    basis: 'genai-rs probe 2026-07',
  },
  {
    id: 'api-versions',
    behaviour: 'served under `/v1/` and `/v1beta/`',
    source: 'sdk',
    basis: '@google/genai 3.1+ uses `/v1`, 2.x `/v1beta`; the guide\'s REST samples use `/v1`',
  },
  {
    id: 'wrong-key',
    behaviour: 'no API key is a 401 `UNAUTHENTICATED`; a wrong key (with `--api-key`) a 400 with reason `API_KEY_INVALID`',
    source: 'guess',
    basis: 'what generativelanguage.googleapis.com answers for other methods',
    flag: '--api-key',
  },
  {
    id: 'http-uri',
    behaviour: '`http://` URIs are accepted, so local receivers work',
    source: 'guess',
    basis: 'undocumented; the real service may insist on https',
  },
  {
    id: 'client-mistakes',
    behaviour: 'every client mistake (bad path, bad request target, bad JSON) is a 4xx in Google\'s error shape, never a 5xx',
    source: 'guess',
    basis: 'Google\'s front end answers in that shape; exact messages differ',
  },
  {
    id: 'data-ids',
    behaviour: 'event `data.id` carries the resource name the job endpoints return (`batches/…`, `operations/…`, the interaction id)',
    source: 'guess',
    basis: 'the guide\'s payload tables name an id without its format',
  },
  {
    id: 'jwt-audience',
    behaviour: 'a dynamic delivery\'s JWT `aud` is the URI it is sent to',
    source: 'guess',
    basis: 'Hookdeck\'s reading; Google documents no `aud` (its sample says "e.g. your project client ID")',
    flag: '--jwt-audience',
  },
  {
    id: 'jwt-issuer',
    behaviour: 'a dynamic delivery\'s JWT `iss` is the emulator\'s base URL',
    source: 'guess',
    basis: 'Google documents no `iss`',
    flag: '--jwt-issuer',
  },
  {
    id: 'cancelled-dynamic',
    behaviour: '`batch.cancelled` / `interaction.cancelled` are sent to a job\'s dynamic `webhook_config.uris` when it is cancelled',
    source: 'guess',
    basis: 'the guide names them; whether they are sent at all is not known',
  },
];

/** The table as the emulation help topic shows it (between the fidelity-table markers). */
export function renderFidelityTable(rows: readonly FidelityRow[] = FIDELITY_TABLE): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  const lines = ['| behaviour | source | basis | flag |', '|-----------|--------|-------|------|'];
  for (const row of rows) {
    lines.push(`| ${escape(row.behaviour)} | ${SOURCE_LABELS[row.source]} | ${escape(row.basis)} | ${row.flag ? `\`${row.flag}\`` : ''} |`);
  }
  return lines.join('\n');
}

/** For `gemwh emulator --help`: every guess, wrapped to 80 columns. */
export function renderGuesses(rows: readonly FidelityRow[] = FIDELITY_TABLE): string {
  return rows
    .filter((row) => row.source === 'guess')
    .map((row) => wrap(`- ${row.behaviour.replace(/`/g, '')}${row.flag ? ` (${row.flag})` : ''}`, 78, '  ', '    '))
    .join('\n');
}

function wrap(text: string, width: number, first: string, rest: string): string {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(' ')) {
    if (line.trim() !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest + word;
    } else {
      line += line.trim() === '' ? word : ` ${word}`;
    }
  }
  lines.push(line);
  return lines.join('\n');
}
