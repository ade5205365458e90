import type { Readable, Writable } from 'node:stream';
import { render } from 'ink';
import { createElement } from 'react';
import type { ListenEvent } from '../listen/events.js';
import { createResumeTracker } from '../listen/resume-progress.js';
import { createStateBatcher, DEFAULT_FLUSH_INTERVAL_MS } from './batcher.js';
import { summaryLine } from './format.js';
import { ListenApp } from './ListenApp.js';
import { DEFAULT_MAX_ROWS, initialListenUiState } from './listen-state.js';
import type { ListenUiSession, ListenUiTrigger } from './types.js';

export type { ListenUiSession, ListenUiTrigger } from './types.js';

export interface RenderListenUiOptions {
  session: ListenUiSession;
  /** Must be a TTY: the UI reads single keys in raw mode. */
  stdout: Writable;
  stdin: Readable;
  stderr?: Writable;
  /** False for NO_COLOR (the command reads the environment, not src/ui). */
  color: boolean;
  /** Enables the `t` key (listen --emulator). */
  trigger?: ListenUiTrigger;
  /** Rows kept in the list; the counters always hold the totals. */
  maxRows?: number;
  flushIntervalMs?: number;
  /** Where `s` saves curl files (default: the folder listen runs in). */
  exportDir?: string;
}

/**
 * Runs the `gemwh listen` terminal UI until the user quits (q or Ctrl-C, which also stop the
 * session) or the session stops on its own. Resolves once the UI is gone; rejects if the session
 * fails. The command imports this module lazily: ink and react cost ~300 ms to load.
 */
export async function renderListenUi(options: RenderListenUiOptions): Promise<void> {
  const { session } = options;
  const batcher = createStateBatcher({
    initial: initialListenUiState(options.maxRows ?? DEFAULT_MAX_ROWS),
    intervalMs: options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS,
  });
  // Subscribing and reading the history in the same tick: nothing can slip between the two.
  const resume = createResumeTracker();
  const push = (event: ListenEvent) => {
    batcher.push(event);
    if (resume.see(event)) batcher.push({ type: 'ui_resume_progress', settled: resume.settled, total: resume.total });
  };
  const unsubscribe = session.on(push);
  for (const event of session.history()) push(event);

  const instance = render(
    createElement(ListenApp, { batcher, session, trigger: options.trigger, color: options.color, exportDir: options.exportDir }),
    {
      stdout: options.stdout as NodeJS.WriteStream,
      stdin: options.stdin as NodeJS.ReadStream,
      ...(options.stderr ? { stderr: options.stderr as NodeJS.WriteStream } : {}),
      // The app handles Ctrl-C itself so that it can stop the session before leaving.
      exitOnCtrlC: false,
      // Leave the global console alone: other code in the process may log.
      patchConsole: false,
    },
  );
  let failed = false;
  try {
    await instance.waitUntilExit();
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    unsubscribe();
    batcher.flush();
    const last = batcher.current();
    batcher.close();
    instance.cleanup();
    // After a failure the error is what matters; cli.ts prints it.
    if (!failed) options.stdout.write(`${summaryLine(last)}\n`);
  }
}
