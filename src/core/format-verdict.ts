import { isoSeconds } from './duration.js';
import type { Verdict } from './verdict.js';

/** The verdict for people: ✓/✗ line, explanation, every diagnosis line, the JWT claims. */
export function formatVerdict(verdict: Verdict, now: number): string {
  const lines: string[] = [];
  if (verdict.ok) {
    if (verdict.scheme === 'static') {
      lines.push(`✓ valid static delivery ${verdict.webhookId}`);
      lines.push(`  ${verdict.explanation}`);
      const age = Math.round(now / 1000) - verdict.timestamp;
      lines.push(`  signed at ${isoSeconds(verdict.timestamp * 1000)} (${age >= 0 ? `${age} s ago` : `${-age} s ahead`})`);
    } else {
      lines.push(`✓ valid dynamic delivery${verdict.webhookId ? ` ${verdict.webhookId}` : ''}`);
      lines.push(`  ${verdict.explanation}`);
      lines.push('  claims:', ...indent(JSON.stringify(verdict.claims, null, 2), 4));
    }
    return lines.join('\n') + '\n';
  }
  lines.push(`✗ rejected (${verdict.scheme}): ${verdict.reason}${verdict.webhookId ? ` — ${verdict.webhookId}` : ''}`);
  lines.push(`  ${verdict.explanation}`);
  for (const finding of verdict.diagnosis) lines.push(`  - ${finding}`);
  if (verdict.claims) lines.push('  claims:', ...indent(JSON.stringify(verdict.claims, null, 2), 4));
  return lines.join('\n') + '\n';
}

function indent(text: string, spaces: number): string[] {
  return text.split('\n').map((line) => ' '.repeat(spaces) + line);
}
