import { formatRows, type Column, type TableTarget } from '../core/table.js';
import type { ConformanceMode } from './context.js';
import type { CaseResult, GroupScore, Score } from './engine.js';

/** The three renderings of one run: terminal table (or TSV), --json, and --report Markdown. */

export interface ConformanceReport {
  schema: 'gemwh.conformance/v1';
  target: string;
  mode: ConformanceMode;
  /** ISO 8601 start of the run. */
  startedAt: string;
  gemwhVersion: string;
  cases: CaseResult[];
  score: Score;
  /** False when any must-accept or must-reject case failed (the exit status is then 9). */
  passed: boolean;
}

const RESULT_LABEL = { pass: 'PASS', fail: 'FAIL', warn: 'WARN' } as const;

const COLUMNS: ReadonlyArray<Column<CaseResult>> = [
  { header: 'CASE', value: (r) => r.id },
  { header: 'EXPECTED', value: (r) => r.expected, minWidth: 12 },
  { header: 'GOT', value: (r) => r.got, minWidth: 12 },
  { header: 'RESULT', value: (r) => RESULT_LABEL[r.outcome] },
  // Long prose; the Markdown report (--report) and --json keep it whole.
  { header: 'RISK', value: (r) => shownRisk(r), minWidth: 12 },
];

/**
 * A case's risk says what a receiver that FAILS it lets happen; next to a PASS it would read as an
 * accusation, so the table and the Markdown report show it only for failures and warnings. The
 * JSON keeps `risk` on every case (it describes the case, not the result).
 */
export function shownRisk(result: CaseResult): string {
  return result.outcome === 'pass' ? '' : result.risk;
}

export function formatResultTable(report: ConformanceReport, target: TableTarget): string {
  return formatRows(report.cases, COLUMNS, target);
}

function groupLine(name: string, group: GroupScore): string {
  if (group.total === 0) return `${name}: no cases run`;
  const parts = [`${group.passed}/${group.total} passed (${percent(group.passed, group.total)}%)`];
  if (group.warned > 0) parts.push(`${group.warned} warning${group.warned === 1 ? '' : 's'}`);
  if (group.failed.length > 0) parts.push(`failed: ${group.failed.join(', ')}`);
  return `${name}: ${parts.join(', ')}`;
}

/** The score block printed under the table, with the explanation of every failure and warning. */
export function formatScore(report: ConformanceReport): string {
  const lines: string[] = [];
  for (const r of report.cases) {
    if (r.outcome !== 'pass' && r.detail) lines.push(`${RESULT_LABEL[r.outcome]} ${r.id}: ${r.detail}`);
  }
  if (lines.length > 0) lines.push('');
  lines.push(groupLine('must (accept/reject)', report.score.must));
  lines.push(groupLine('should (robustness)', report.score.should));
  lines.push(
    `score: ${report.score.passed}/${report.score.total} passed (${report.score.percent}%) - ${report.passed ? 'conformant' : 'NOT conformant: a must-case failed'}`,
  );
  return lines.join('\n') + '\n';
}

export function formatJsonReport(report: ConformanceReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}

export function formatMarkdownReport(report: ConformanceReport): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
  const out: string[] = [];
  out.push('# Webhook receiver conformance report', '');
  out.push(`- Receiver: \`${report.target}\``);
  out.push(`- Signing: ${report.mode === 'static' ? 'static (Standard Webhooks, HMAC-SHA256)' : 'dynamic (RS256 JWT, JWKS)'}`);
  out.push(`- Run: ${report.startedAt}, gemwh ${report.gemwhVersion}`);
  out.push(`- Result: **${report.passed ? 'conformant' : 'not conformant'}**, ${report.score.passed}/${report.score.total} cases passed (${report.score.percent}%)`);
  out.push(`- ${groupLine('Must (accept/reject)', report.score.must)}`);
  out.push(`- ${groupLine('Should (robustness)', report.score.should)}`, '');
  out.push('| Case | Group | Expected | Got | Result | Risk |', '|---|---|---|---|---|---|');
  for (const r of report.cases) {
    out.push(`| \`${r.id}\` | ${r.group} | ${cell(r.expected)} | ${cell(r.got)} | ${RESULT_LABEL[r.outcome]} | ${cell(shownRisk(r))} |`);
  }
  const notes = report.cases.filter((r) => r.outcome !== 'pass' && r.detail);
  if (notes.length > 0) {
    out.push('', '## Failures and warnings', '');
    for (const r of notes) out.push(`- **${RESULT_LABEL[r.outcome]} \`${r.id}\`**: ${cell(r.detail ?? '')}`);
  }
  return out.join('\n') + '\n';
}

function percent(part: number, whole: number): number {
  return whole === 0 ? 100 : Math.round((part / whole) * 100);
}
