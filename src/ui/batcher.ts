import { initialListenUiState, reduceAll, type ListenUiAction, type ListenUiState } from './listen-state.js';

/**
 * Sits between the event stream and React. Events are folded into the state as they arrive (in
 * small chunks, so memory never holds more than FOLD_EVERY pending events), but subscribers hear
 * about it at most once per interval: at 1,000 deliveries/s React renders a dozen times a second,
 * not 3,000 times, and the receiver keeps the CPU.
 */

/**
 * Default publish interval: 10 frames/s reads as live, and each Ink frame of a full terminal
 * costs a few ms of string measuring (see test/bench/tui.bench.mjs for the CPU it adds up to).
 */
export const DEFAULT_FLUSH_INTERVAL_MS = 100;
const FOLD_EVERY = 256;

/** setTimeout-shaped, so tests can drive time by hand. Returns a cancel function. */
export type Scheduler = (run: () => void, delayMs: number) => () => void;

export const timerScheduler: Scheduler = (run, delayMs) => {
  const timer = setTimeout(run, delayMs);
  return () => clearTimeout(timer);
};

export interface StateBatcherOptions {
  initial?: ListenUiState;
  intervalMs?: number;
  schedule?: Scheduler;
}

export interface StateBatcher {
  push(action: ListenUiAction): void;
  /** Everything pushed so far, folded in (publishes nothing). */
  current(): ListenUiState;
  /** The listener gets the newest state at most once per interval; returns the unsubscribe function. */
  subscribe(listener: (state: ListenUiState) => void): () => void;
  /** Publishes now, for actions the user should see at once (clear) and for the last frame. */
  flush(): void;
  /** Cancels the pending timer; later pushes still fold but publish nothing. */
  close(): void;
}

export function createStateBatcher(options: StateBatcherOptions = {}): StateBatcher {
  const intervalMs = options.intervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
  const schedule = options.schedule ?? timerScheduler;
  let state = options.initial ?? initialListenUiState();
  let pending: ListenUiAction[] = [];
  let published = state;
  let cancelTimer: (() => void) | undefined;
  let closed = false;
  const listeners = new Set<(state: ListenUiState) => void>();

  const fold = () => {
    if (pending.length === 0) return;
    const actions = pending;
    pending = [];
    state = reduceAll(state, actions);
  };

  const publish = () => {
    cancelTimer?.();
    cancelTimer = undefined;
    fold();
    if (state === published) return;
    published = state;
    for (const listener of [...listeners]) listener(state);
  };

  return {
    push(action) {
      pending.push(action);
      if (pending.length >= FOLD_EVERY) fold();
      if (!closed && cancelTimer === undefined && listeners.size > 0) cancelTimer = schedule(publish, intervalMs);
    },
    current() {
      fold();
      return state;
    },
    subscribe(listener) {
      listeners.add(listener);
      // Events that arrived before anyone listened still need a frame.
      fold();
      if (!closed && state !== published && cancelTimer === undefined) cancelTimer = schedule(publish, intervalMs);
      return () => {
        listeners.delete(listener);
      };
    },
    flush() {
      if (!closed) publish();
    },
    close() {
      closed = true;
      cancelTimer?.();
      cancelTimer = undefined;
    },
  };
}
