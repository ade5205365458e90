import { InterruptedError, UsageError } from '../errors.js';
import { describeExchange, isSuccess, probeRequest, type CaseGroup, type ConformanceCase, type JudgeContext, type Outcome } from './cases.js';
import type { CaseContext, ConformanceMode } from './context.js';
import type { Exchange, Sender } from './send.js';

/**
 * Runs the battery: for each case, send what it builds (one request after the other, never in
 * parallel, so a failure belongs to the request that caused it), let it judge the answers, and
 * for must-reject cases prove with one more valid delivery that the receiver is still up.
 */

export interface CaseResult {
  id: string;
  group: CaseGroup;
  expected: string;
  got: string;
  outcome: Outcome;
  /** What a receiver that fails this case lets happen: set on every case, whatever its outcome. */
  risk: string;
  detail?: string;
  /** Milliseconds of this case's own requests (the probe not included). */
  latencyMs: number[];
}

export interface BatteryOptions {
  cases: readonly ConformanceCase[];
  ctx: CaseContext;
  send: Sender;
  slowWarnMs: number;
  slowFailMs: number;
  signal?: AbortSignal;
  /** Called before each case, for progress output. */
  onCase?: (index: number, total: number, c: ConformanceCase) => void;
}

export interface BatteryRun {
  results: CaseResult[];
  /** Valid deliveries sent (probes included) and how many of them got a 2xx. */
  validSent: number;
  validAccepted: number;
}

export async function runBattery(options: BatteryOptions): Promise<BatteryRun> {
  const validLatencies: number[] = [];
  let validTimeouts = 0;
  let validSent = 0;
  let validAccepted = 0;
  const sendAndRecord = async (request: Parameters<Sender>[0]): Promise<Exchange> => {
    const exchange = await options.send(request);
    if (options.signal?.aborted) throw new InterruptedError('conformance run interrupted');
    if (request.measured) {
      validSent += 1;
      if (isSuccess(exchange)) validAccepted += 1;
      if (exchange.status !== undefined) validLatencies.push(exchange.latencyMs);
      else if (exchange.error?.kind === 'timeout') validTimeouts += 1;
    }
    return exchange;
  };

  const results: CaseResult[] = [];
  for (const [index, c] of options.cases.entries()) {
    if (options.signal?.aborted) throw new InterruptedError('conformance run interrupted');
    options.onCase?.(index, options.cases.length, c);
    const exchanges: Exchange[] = [];
    for (const request of await c.build(options.ctx)) exchanges.push(await sendAndRecord(request));
    const judgeContext: JudgeContext = { validLatencies, validTimeouts, slowWarnMs: options.slowWarnMs, slowFailMs: options.slowFailMs };
    let judgement = c.judge(exchanges, judgeContext);

    if (c.group === 'must-reject' || c.probeAfter) {
      const probe = await sendAndRecord(await probeRequest(options.ctx));
      if (!isSuccess(probe)) {
        judgement = {
          outcome: 'fail',
          got: `${judgement.got}; then a valid delivery: ${describeExchange(probe)}`,
          detail:
            probe.status === undefined
              ? `After this request the receiver no longer accepted a valid delivery (${describeExchange(probe)}): it crashed or is wedged, so every real delivery is lost from then on.`
              : `The valid delivery sent right after was refused too (${describeExchange(probe)}), so this refusal proves nothing: make the accept-* cases pass first.`,
        };
      }
    }
    results.push({
      id: c.id,
      group: c.group,
      expected: c.expected,
      got: judgement.got,
      outcome: judgement.outcome,
      risk: c.risk,
      ...(judgement.detail ? { detail: judgement.detail } : {}),
      latencyMs: exchanges.map((e) => Math.round(e.latencyMs)),
    });
  }
  return { results, validSent, validAccepted };
}

/**
 * `--only a,b,reject-*`: the cases of this mode that any pattern matches, in battery order.
 * A pattern that matches nothing is a usage error naming the ids that exist.
 */
export function selectCases(
  cases: readonly ConformanceCase[],
  patterns: readonly string[],
  mode: ConformanceMode,
  otherModeCases: readonly ConformanceCase[] = [],
): ConformanceCase[] {
  if (patterns.length === 0) return [...cases];
  const tests = patterns.map((pattern) => ({ pattern, test: globTest(pattern) }));
  for (const { pattern, test } of tests) {
    if (cases.some((c) => test(c.id))) continue;
    const elsewhere = otherModeCases.find((c) => test(c.id));
    if (elsewhere) {
      throw new UsageError(`--only: "${pattern}" is a case of ${mode === 'static' ? '--dynamic' : 'static'} mode, not of this run`, {
        hint: mode === 'static' ? 'Run with --dynamic for the JWT cases.' : 'Run with --secret (or --webhook) for the static-signature cases.',
      });
    }
    throw new UsageError(`--only: no case matches "${pattern}"`, {
      hint: `Case ids: ${cases.map((c) => c.id).join(', ')}. Globs such as "reject-*" work; separate several with commas.`,
    });
  }
  return cases.filter((c) => tests.some(({ test }) => test(c.id)));
}

function globTest(pattern: string): (id: string) => boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`);
  return (id) => regex.test(id);
}

export interface GroupScore {
  passed: number;
  total: number;
  warned: number;
  failed: string[];
}

export interface Score {
  passed: number;
  total: number;
  /** passed / total, rounded to a whole percent. */
  percent: number;
  must: GroupScore;
  should: GroupScore;
}

export function score(results: readonly CaseResult[]): Score {
  const group = (rows: readonly CaseResult[]): GroupScore => ({
    passed: rows.filter((r) => r.outcome === 'pass').length,
    total: rows.length,
    warned: rows.filter((r) => r.outcome === 'warn').length,
    failed: rows.filter((r) => r.outcome === 'fail').map((r) => r.id),
  });
  const passed = results.filter((r) => r.outcome === 'pass').length;
  return {
    passed,
    total: results.length,
    percent: results.length === 0 ? 100 : Math.round((passed / results.length) * 100),
    must: group(results.filter((r) => r.group !== 'should')),
    should: group(results.filter((r) => r.group === 'should')),
  };
}
