import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * gemwh's own messages start lower-case: `gemwh: no API key …`, `gemwh: warning: …`, the live
 * view's status line. This scans the sources so that a sentence-case one cannot drift back in.
 * A message may start with an acronym, an environment variable or a placeholder (all capitals:
 * HTTP, GEMWH_SECRET_STORE, TYPE) or one of the proper nouns below. The emulator's API errors are
 * worded as Google words them and do not go through these constructors or prefixes. Hints are
 * whole sentences on their own lines and stay as they are; so do notices without the `gemwh:`
 * prefix ("Signing secret stored in …").
 */

const SRC = new URL('../src/', import.meta.url).pathname;
const PROPER_NOUNS = new Set(['Gemini', 'Google', 'Node.js', 'PowerShell', 'Redis']);

/** Every error class of errors.ts: a new one is covered without touching this test. */
function errorClasses(): string[] {
  const source = readFileSync(join(SRC, 'errors.ts'), 'utf8');
  return ['GemwhError', ...[...source.matchAll(/class (\w+) extends GemwhError/g)].map((m) => m[1]!)];
}

/** The first word of a message when it breaks the rule, else undefined. */
function offendingWord(text: string): string | undefined {
  const word = /^[^\s:;,(]+/.exec(text)?.[0] ?? '';
  if (!/^[A-Z]/.test(word)) return undefined;
  if (/^[A-Z][A-Z0-9_]+$/.test(word.replace(/[.'’]+$/, ''))) return undefined;
  if (PROPER_NOUNS.has(word)) return undefined;
  return word;
}

/** Messages in `source` that start upper-case: constructor literals, `gemwh: …` lines, warn(…). */
export function sentenceCaseMessages(source: string, classes: readonly string[]): string[] {
  const patterns = [
    new RegExp(`new (?:${classes.join('|')})\\(\\s*[\`'"]((?!\\$\\{)[^\`'"\\n]*)`, 'g'),
    /[`'"]gemwh: (?:warning: |error: )?((?!\$\{)[^`'"\n]*)/g,
    /\bwarn\(\s*[`'"]((?!\$\{)[^`'"\n]*)/g,
  ];
  const found: string[] = [];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) {
      if (offendingWord(match[1]!) !== undefined) found.push(match[0]);
    }
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

describe('message case', () => {
  const classes = errorClasses();

  it('finds a sentence-case message, and lets acronyms, variables and proper nouns through (the scan can fail)', () => {
    const sample = [
      "throw new UsageError('Cannot read the file', { hint: 'Check it.' });",
      'throw new NetworkError(`Cannot reach ${url}`);',
      "io.stderr.write('gemwh: warning: Secrets are stored in plain text\\n');",
      "session.warn('The journal is full');",
      "throw new UsageError('HTTP 413 from the relay');",
      'throw new UsageError(`GEMWH_SECRET_STORE is "x"`);',
      "throw new AuthError('Gemini refused the key');",
      'throw new ApiError(`${label}: failed`);',
      "throw new UsageError('cannot read the file', { hint: 'Check it.' });",
      "throw new UsageError('A webhook id is required');",
    ].join('\n');
    expect(sentenceCaseMessages(sample, classes)).toEqual([
      "new UsageError('Cannot read the file",
      'new NetworkError(`Cannot reach ${url}',
      "new UsageError('A webhook id is required",
      "'gemwh: warning: Secrets are stored in plain text\\n",
      "warn('The journal is full",
    ]);
  });

  it('every message of gemwh starts lower-case', () => {
    const offenders = sourceFiles(SRC).flatMap((file) =>
      sentenceCaseMessages(readFileSync(file, 'utf8'), classes).map((message) => `${relative(SRC, file)}: ${message}`),
    );
    expect(offenders).toEqual([]);
  });
});
