import { formatJson } from '../core/json.js';
import type { Column } from '../core/table.js';
import type { Deps, OutStream } from '../deps.js';

/**
 * The one place that decides how a command's output looks: whether stdout is a person's terminal,
 * how wide it is, whether colour is wanted. Run functions ask this object instead of reading
 * isTTY or NO_COLOR themselves, so every command answers a pipe, NO_COLOR and a narrow window alike.
 */
export interface Output {
  /** stdout is a terminal: tables, relative times and decorations are for a person. */
  readonly tty: boolean;
  /** The terminal's width in columns, when stdout is a terminal that says. */
  readonly width: number | undefined;
  /** Colour on stdout: FORCE_COLOR turns it on, NO_COLOR off, otherwise a terminal gets it. */
  readonly color: boolean;
  /** stderr is a terminal: progress lines and hints for a person may go there. */
  readonly stderrTty: boolean;
  write(text: string): void;
  /**
   * A table fitted to the terminal, or full TSV on a pipe. Asynchronous because the table code
   * (string-width) loads on the first table: commands that print none start without it.
   */
  table<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>): Promise<void>;
  /** Pretty JSON, for --json. */
  json(value: unknown): void;
  /** One compact JSON value per line, for streams. */
  ndjson(value: unknown): void;
}

type Env = Readonly<Record<string, string | undefined>>;

export function wantsColor(env: Env, tty: boolean): boolean {
  // https://no-color.org: present and not empty disables; FORCE_COLOR=0/false also disables.
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return tty;
}

export function isTerminal(stream: OutStream | { isTTY?: boolean }): boolean {
  return stream.isTTY === true;
}

export function outputOf(deps: Pick<Deps, 'io' | 'env'>): Output {
  const { stdout, stderr } = deps.io;
  const tty = isTerminal(stdout);
  const width = tty && typeof stdout.columns === 'number' && stdout.columns > 0 ? stdout.columns : undefined;
  return {
    tty,
    width,
    color: wantsColor(deps.env, tty),
    stderrTty: isTerminal(stderr),
    write: (text) => void stdout.write(text),
    table: async (rows, columns) => {
      const { formatRows } = await import('../core/table.js');
      stdout.write(formatRows(rows, columns, { tty, width }));
    },
    json: (value) => void stdout.write(formatJson(value)),
    ndjson: (value) => void stdout.write(JSON.stringify(value) + '\n'),
  };
}
