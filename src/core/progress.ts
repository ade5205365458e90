/**
 * One line on stderr that says how far a long wait has got (`[12/40] sending batch.succeeded`),
 * rewritten in place and erased at the end, so the terminal keeps only the results. Shown only
 * where a person watches: stderr is a terminal and the output is not --json. In a pipe, a log
 * file or CI it writes nothing, so no carriage returns end up in anyone's output.
 */
export interface Progress {
  /** Replaces the line with `text` (cut to the terminal's width: a wrapped line cannot be rewritten). */
  update(text: string): void;
  /**
   * Erases the line before something else is written to the same terminal; the next update
   * draws it again. Rows on stdout and the progress on stderr share the screen.
   */
  hide(): void;
  /** Erases the line for good; later updates are ignored. */
  done(): void;
}

const ERASE_LINE = '\r\x1b[K';

/** Deps' stderr, or any stream with the tty bits (core/ does not import deps.ts). */
export interface TerminalStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** `silent`: --json, or a wait too short to need a count. */
export function createProgress(stream: TerminalStream, options: { silent?: boolean } = {}): Progress {
  if (options.silent || stream.isTTY !== true) return { update() {}, hide() {}, done() {} };
  let shown: string | undefined;
  let finished = false;
  return {
    update(text) {
      const line = cut(oneLine(text), (stream.columns || 80) - 1);
      // A poll loop says the same thing many times: redraw only what changed.
      if (finished || line === shown) return;
      stream.write(ERASE_LINE + line);
      shown = line;
    },
    hide() {
      if (shown === undefined) return;
      stream.write(ERASE_LINE);
      shown = undefined;
    },
    done() {
      this.hide();
      finished = true;
    },
  };
}

/** `[3/10] what`: the count first, where the eye finds it at the same place on every redraw. */
export function countText(done: number, total: number, what: string): string {
  return `[${done}/${total}] ${what}`;
}

function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
}

/** Code points, not cells: the text is gemwh's own words, case ids and event types. */
function cut(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}
