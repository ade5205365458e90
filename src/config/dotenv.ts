import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { UsageError } from '../errors.js';
import type { OutStream } from '../deps.js';

/**
 * A project's `.env`, read with Node's own parser (util.parseEnv, the one behind --env-file and
 * process.loadEnvFile) into the environment gemwh passes around in Deps. Variables already set
 * win, as with Node's --env-file and dotenv: the shell is the more deliberate of the two.
 *
 * util.parseEnv never fails: a line that is not NAME=value is silently skipped, or glued into the
 * next name. The file is often shared with the app's own dotenv, whose syntax is looser, so such a
 * line is a warning naming the file and line (and left out), not an error that would stop every
 * gemwh command.
 */

export interface DotenvFile {
  path: string;
  /** The names this file added (those not already set), in file order. */
  added: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
}

export function loadDotenv(path: string, env: Readonly<Record<string, string | undefined>>, stderr: OutStream): DotenvFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  const { kept, problems } = wellFormedLines(text);
  for (const problem of problems) stderr.write(`gemwh: warning: ${path}:${problem.line}: ${problem.message}; the line is ignored\n`);
  const parsed = parseEnv(kept);
  const added = Object.keys(parsed).filter((name) => env[name] === undefined);
  const merged: Record<string, string | undefined> = { ...env };
  for (const name of added) merged[name] = parsed[name];
  return { path, added, env: merged };
}

const ASSIGNMENT = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=\s*(.*)$/;

/** The text with lines that are not NAME=value (nor comments, blank, or inside a quoted value) blanked out. */
export function wellFormedLines(text: string): { kept: string; problems: Array<{ line: number; message: string }> } {
  const lines = text.split(/\r?\n/);
  const problems: Array<{ line: number; message: string }> = [];
  let openQuote: { char: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (openQuote) {
      if (line.includes(openQuote.char)) openQuote = undefined;
      continue;
    }
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const match = ASSIGNMENT.exec(line);
    if (!match) {
      problems.push({ line: i + 1, message: `not NAME=value: "${line.length > 40 ? `${line.slice(0, 40)}…` : line}"` });
      lines[i] = '';
      continue;
    }
    const value = match[1] ?? '';
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === '`') && !value.slice(1).includes(quote)) openQuote = { char: quote, line: i + 1 };
  }
  if (openQuote) problems.push({ line: openQuote.line, message: `the ${openQuote.char} quote opened here is never closed` });
  return { kept: lines.join('\n'), problems };
}
