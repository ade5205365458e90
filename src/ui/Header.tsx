import { Box, Text } from 'ink';
import { printable, safeSecretLabel } from './format.js';
import type { ListenUiState } from './listen-state.js';
import type { Theme } from './theme.js';

export interface HeaderProps {
  state: ListenUiState;
  theme: Theme;
}

/** How many lines Header draws, so the list knows how much height is left. */
export function headerHeight(state: ListenUiState): number {
  return 3 + (extrasText(state.info) ? 1 : 0) + (state.warnings.length > 0 ? 1 : 0);
}

export function Header({ state, theme }: HeaderProps) {
  const { info, counters } = state;
  const title = state.stopped ? `stopped: ${state.stopped.reason}` : info ? `listening on ${info.url}${info.publicUrl ? ` via ${info.publicUrl}` : ''}` : 'starting…';
  const targets = info && info.forwardTargets.length > 0 ? `→ ${info.forwardTargets.join(', ')}` : '→ no forward target';
  const lastWarning = state.warnings[state.warnings.length - 1];
  const extras = extrasText(info);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text {...theme.heading}>gemwh listen</Text> {printable(title)} {info ? printable(targets) : ''}
      </Text>
      <Text wrap="truncate-end" {...theme.tone('dim')}>
        {info ? `verifying against ${printable(verifyingText(info.verifying))}` : ' '}
      </Text>
      {extras ? (
        <Text wrap="truncate-end" {...theme.tone('dim')}>
          {printable(extras)}
        </Text>
      ) : null}
      <Text wrap="truncate-end">
        received {counters.received}  <Text {...theme.tone('ok')}>✓ {counters.verified}</Text>
        {'  '}
        <Text {...theme.tone(counters.rejected > 0 ? 'bad' : 'plain')}>✗ {counters.rejected}</Text>
        {'  '}
        <Text {...theme.tone(counters.duplicates > 0 ? 'warn' : 'plain')}>DUP {counters.duplicates}</Text>
        {'  '}forwarded {counters.forwarded}
        {'  '}
        <Text {...theme.tone(counters.failed > 0 ? 'bad' : 'plain')}>failed {counters.failed}</Text>
        {counters.retrying > 0 ? `  retried ${counters.retrying}` : ''}
        {state.resuming
          ? `  resuming ${state.resuming.settled}/${state.resuming.total}`
          : counters.resumed > 0
            ? `  resumed ${counters.resumed}`
            : ''}
      </Text>
      {lastWarning ? (
        <Text wrap="truncate-end" {...theme.tone('warn')}>
          ! {printable(lastWarning.message)}
        </Text>
      ) : null}
    </Box>
  );
}

type Info = NonNullable<ListenUiState['info']>;

function verifyingText(verifying: Info['verifying']): string {
  const parts: string[] = [];
  if (verifying.webhookIds.length > 0) parts.push(`webhooks ${verifying.webhookIds.join(', ')}`);
  if (verifying.secrets.length > 0) parts.push(`secrets ${verifying.secrets.map(safeSecretLabel).join(', ')}`);
  if (parts.length > 0) return parts.join('; ');
  return verifying.jwks ? 'JWT signatures only (dynamic webhooks)' : 'nothing (every delivery will be rejected)';
}

/** JWKS URL and journal path get their own line: with the secrets they rarely fit in one. */
function extrasText(info: Info | undefined): string {
  if (!info) return '';
  const parts: string[] = [];
  if (info.verifying.jwks) parts.push(`JWKS ${info.verifying.jwks}`);
  if (info.journal) parts.push(`journal ${info.journal}`);
  return parts.join('  ');
}
