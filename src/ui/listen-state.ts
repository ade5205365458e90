import type { RejectedEvent, ReadyEvent, ListenEvent } from '../listen/events.js';

/**
 * The TUI's model of a listen session, built only from the ListenEvent stream. `reduce` is pure:
 * no I/O, no clock (every time comes from an event), and the input state is never mutated, so it
 * is tested without a terminal and the batcher can fold events into it at any rate.
 *
 * Memory stays bounded however long the session runs: the list keeps the newest `maxRows`
 * deliveries, the event-type and warning lists are capped, and the counters hold the totals.
 */

/** Rows kept in the list; older ones live on in the counters and the journal. */
export const DEFAULT_MAX_ROWS = 500;
/** Event types are sender-controlled strings: cap them so a hostile sender cannot grow the state. */
export const MAX_EVENT_TYPES = 32;
export const MAX_WARNINGS = 3;

export type RowVerdict =
  | { kind: 'pending' }
  | { kind: 'verified'; scheme: 'static' | 'dynamic'; inGrace: boolean }
  | { kind: 'rejected'; reason: RejectedEvent['reason']; status: number }
  | { kind: 'duplicate'; firstSeq?: number }
  /** Verified by an earlier run and found unforwarded in the journal. */
  | { kind: 'resumed'; receivedAt: number };

/** The latest word about one forward target of one delivery. */
export type TargetForward =
  | { target: string; kind: 'ok'; attempt: number; status: number; latencyMs: number }
  | {
      target: string;
      kind: 'failed';
      attempt: number;
      status?: number;
      error?: string;
      latencyMs: number;
      /** Delay until the next attempt, measured when the failure was reported; absent: given up. */
      retryInMs?: number;
      /** What the app's 4xx answer says it refused. */
      refusedFor?: 'timestamp' | 'signature';
      /** A dynamic delivery sent after its JWT expired. */
      tokenExpired?: boolean;
    };

export type RowForward =
  /** Nothing will be forwarded: no targets, rejected, or a duplicate. */
  | { kind: 'none' }
  /** Verified, but `--events` keeps this type from the targets. */
  | { kind: 'filtered' }
  | { kind: 'pending' }
  | { kind: 'reported'; targets: readonly TargetForward[] };

export interface DeliveryRow {
  seq: number;
  /** Epoch ms the request arrived (or the first event about it, if `received` was missed). */
  at: number;
  method?: string;
  path?: string;
  webhookId?: string;
  eventType?: string;
  verdict: RowVerdict;
  forward: RowForward;
}

export interface Counters {
  received: number;
  verified: number;
  rejected: number;
  duplicates: number;
  /** Deliveries that reached their target (once each per target, however many attempts or resends it took). */
  forwarded: number;
  /** Deliveries whose forward failed with no retry left (and has not succeeded since). */
  failed: number;
  /** Deliveries whose forward needed a retry. */
  retrying: number;
  /** Deliveries from an earlier run's journal forwarded again by this one. */
  resumed: number;
}

export interface ListenUiState {
  info?: Omit<ReadyEvent, 'type'>;
  counters: Counters;
  /** Oldest first, sorted by seq, at most maxRows long. */
  rows: readonly DeliveryRow[];
  maxRows: number;
  /** Every seq at or below this one was evicted or cleared: late events about it only count. */
  floorSeq: number;
  /** Event types seen this session, sorted, at most MAX_EVENT_TYPES. */
  eventTypes: readonly string[];
  warnings: ReadonlyArray<{ at: number; message: string }>;
  stopped?: { at: number; reason: string };
  /** Forwards resumed from the journal and how many of them are done, while some are not. */
  resuming?: { settled: number; total: number };
}

/** `c` in the UI: empties the list, keeps the session totals. */
export interface ClearAction {
  type: 'ui_clear';
}

/** From the resume tracker (src/listen/resume-progress.ts), which follows the session's events. */
export interface ResumeProgressAction {
  type: 'ui_resume_progress';
  settled: number;
  total: number;
}

export type ListenUiAction = ListenEvent | ClearAction | ResumeProgressAction;

export function initialListenUiState(maxRows = DEFAULT_MAX_ROWS): ListenUiState {
  return {
    counters: { received: 0, verified: 0, rejected: 0, duplicates: 0, forwarded: 0, failed: 0, retrying: 0, resumed: 0 },
    rows: [],
    maxRows: Math.max(1, Math.floor(maxRows)),
    floorSeq: 0,
    eventTypes: [],
    warnings: [],
  };
}

export function reduce(state: ListenUiState, action: ListenUiAction): ListenUiState {
  return reduceAll(state, [action]);
}

/**
 * Folds many actions at once. Same result as folding `reduce` over them, but the row array is
 * copied once per call instead of once per event, which is what keeps 1,000 events/s cheap.
 */
export function reduceAll(state: ListenUiState, actions: readonly ListenUiAction[]): ListenUiState {
  if (actions.length === 0) return state;
  const draft = new Draft(state);
  for (const action of actions) draft.apply(action);
  return draft.finish();
}

/** Mutable working copy owned by one reduceAll call; nothing it touches is shared with the input. */
class Draft {
  private info: ListenUiState['info'];
  private readonly counters: Counters;
  private rows: DeliveryRow[] | undefined;
  private floorSeq: number;
  private eventTypes: string[] | undefined;
  private warnings: Array<{ at: number; message: string }> | undefined;
  private stopped: ListenUiState['stopped'];
  private resuming: ListenUiState['resuming'];

  constructor(private readonly base: ListenUiState) {
    this.info = base.info;
    this.resuming = base.resuming;
    this.counters = { ...base.counters };
    this.floorSeq = base.floorSeq;
    this.stopped = base.stopped;
  }

  apply(action: ListenUiAction): void {
    switch (action.type) {
      case 'ready': {
        const { type: _type, ...info } = action;
        this.info = info;
        return;
      }
      case 'received':
        this.counters.received++;
        this.noteEventType(action.eventType);
        this.upsert(action.seq, action.at, (row) => ({
          ...row,
          method: action.method,
          path: action.path,
          webhookId: action.webhookId ?? row.webhookId,
          eventType: action.eventType ?? row.eventType,
        }));
        return;
      case 'verified':
        this.counters.verified++;
        this.noteEventType(action.eventType);
        this.upsert(action.seq, action.at, (row) => ({
          ...row,
          webhookId: action.webhookId ?? row.webhookId,
          eventType: action.eventType ?? row.eventType,
          verdict: { kind: 'verified', scheme: action.scheme, inGrace: action.matched?.inGrace ?? false },
          forward: this.forwardAfterVerified(row, action.willForward),
        }));
        return;
      case 'rejected':
        this.counters.rejected++;
        this.noteEventType(action.eventType);
        this.upsert(action.seq, action.at, (row) => ({
          ...row,
          webhookId: action.webhookId ?? row.webhookId,
          eventType: action.eventType ?? row.eventType,
          verdict: { kind: 'rejected', reason: action.reason, status: action.status },
          // A resend of a rejected delivery is refused by the session, so nothing can follow.
          forward: row.forward.kind === 'reported' ? row.forward : { kind: 'none' },
        }));
        return;
      case 'duplicate':
        this.counters.duplicates++;
        this.noteEventType(action.eventType);
        this.upsert(action.seq, action.at, (row) => ({
          ...row,
          webhookId: action.webhookId,
          eventType: action.eventType ?? row.eventType,
          verdict: action.firstSeq === undefined ? { kind: 'duplicate' } : { kind: 'duplicate', firstSeq: action.firstSeq },
          forward: row.forward.kind === 'reported' ? row.forward : { kind: 'none' },
        }));
        return;
      case 'resumed':
        this.counters.resumed++;
        this.noteEventType(action.eventType);
        this.upsert(action.seq, action.at, (row) => ({
          ...row,
          webhookId: action.webhookId ?? row.webhookId,
          eventType: action.eventType ?? row.eventType,
          verdict: { kind: 'resumed', receivedAt: action.receivedAt },
          forward: row.forward.kind === 'reported' ? row.forward : action.targets.length > 0 ? { kind: 'pending' } : { kind: 'none' },
        }));
        return;
      case 'forwarded': {
        const before = this.targetBefore(action.seq, action.target);
        // Counted per delivery: a resend of one that got through already is not a second one.
        if (before?.kind !== 'ok') this.counters.forwarded++;
        if (before?.kind === 'failed' && before.retryInMs === undefined) this.counters.failed = Math.max(0, this.counters.failed - 1);
        this.upsert(action.seq, action.at, (row) => ({
          ...row,
          forward: withTarget(row.forward, {
            target: action.target,
            kind: 'ok',
            attempt: action.attempt,
            status: action.status,
            latencyMs: action.latencyMs,
          }),
        }));
        return;
      }
      case 'forward_failed': {
        const retryInMs = action.nextAttemptAt === undefined ? undefined : Math.max(0, action.nextAttemptAt - action.at);
        const before = this.targetBefore(action.seq, action.target);
        const givenUpBefore = before?.kind === 'failed' && before.retryInMs === undefined;
        if (retryInMs === undefined) {
          if (!givenUpBefore) this.counters.failed++;
        } else if (before?.kind !== 'failed') {
          this.counters.retrying++;
        } else if (givenUpBefore) {
          // A resend of a failed delivery is being retried: it no longer counts as given up.
          this.counters.failed = Math.max(0, this.counters.failed - 1);
        }
        this.upsert(action.seq, action.at, (row) => ({
          ...row,
          forward: withTarget(row.forward, {
            target: action.target,
            kind: 'failed',
            attempt: action.attempt,
            latencyMs: action.latencyMs,
            ...(action.status === undefined ? {} : { status: action.status }),
            ...(action.error === undefined ? {} : { error: action.error }),
            ...(retryInMs === undefined ? {} : { retryInMs }),
            ...(action.refusedFor === undefined ? {} : { refusedFor: action.refusedFor }),
            ...(action.tokenExpired ? { tokenExpired: true } : {}),
          }),
        }));
        return;
      }
      case 'warning': {
        const warnings = (this.warnings ??= [...this.base.warnings]);
        warnings.push({ at: action.at, message: action.message });
        if (warnings.length > MAX_WARNINGS) warnings.splice(0, warnings.length - MAX_WARNINGS);
        return;
      }
      case 'stopped':
        this.stopped = { at: action.at, reason: action.reason };
        return;
      case 'ui_resume_progress':
        this.resuming = action.settled < action.total ? { settled: action.settled, total: action.total } : undefined;
        return;
      case 'ui_clear': {
        const rows = this.mutableRows();
        const last = rows[rows.length - 1];
        if (last) this.floorSeq = Math.max(this.floorSeq, last.seq);
        rows.length = 0;
        return;
      }
      default:
        assertNever(action);
    }
  }

  finish(): ListenUiState {
    const rows = this.rows;
    if (rows && rows.length > this.base.maxRows) {
      const evicted = rows.splice(0, rows.length - this.base.maxRows);
      const lastEvicted = evicted[evicted.length - 1];
      if (lastEvicted) this.floorSeq = Math.max(this.floorSeq, lastEvicted.seq);
    }
    const next: ListenUiState = {
      counters: this.counters,
      rows: rows ?? this.base.rows,
      maxRows: this.base.maxRows,
      floorSeq: this.floorSeq,
      eventTypes: this.eventTypes ?? this.base.eventTypes,
      warnings: this.warnings ?? this.base.warnings,
    };
    if (this.info) next.info = this.info;
    if (this.stopped) next.stopped = this.stopped;
    if (this.resuming) next.resuming = this.resuming;
    return next;
  }

  private forwardAfterVerified(row: DeliveryRow, willForward: boolean): RowForward {
    if (row.forward.kind === 'reported') return row.forward;
    if (!willForward) return { kind: 'filtered' };
    // Without a ready event we cannot know the targets; assume some, as the session said it will forward.
    const targets = this.info?.forwardTargets;
    return targets && targets.length === 0 ? { kind: 'none' } : { kind: 'pending' };
  }

  private noteEventType(eventType: string | undefined): void {
    if (eventType === undefined || eventType === '') return;
    const current = this.eventTypes ?? this.base.eventTypes;
    if (current.length >= MAX_EVENT_TYPES) return;
    const index = lowerBound(current, eventType);
    if (current[index] === eventType) return;
    const types = (this.eventTypes ??= [...this.base.eventTypes]);
    types.splice(index, 0, eventType);
  }

  /** The latest word about this delivery's forward to `target`, while its row is kept. */
  private targetBefore(seq: number, target: string): TargetForward | undefined {
    const rows = this.rows ?? this.base.rows;
    const row = rows[indexOfSeq(rows, seq)];
    return row?.forward.kind === 'reported' ? row.forward.targets.find((t) => t.target === target) : undefined;
  }

  private mutableRows(): DeliveryRow[] {
    return (this.rows ??= [...this.base.rows]);
  }

  /**
   * Applies `update` to the row for `seq`, creating it when the seq is newer than anything
   * evicted or cleared (so a missed `received` still yields a row). Rows stay sorted by seq.
   */
  private upsert(seq: number, at: number, update: (row: DeliveryRow) => DeliveryRow): void {
    if (seq <= this.floorSeq) return;
    const rows = this.rows ?? this.base.rows;
    const index = indexOfSeq(rows, seq);
    if (index >= 0) {
      const row = rows[index] as DeliveryRow;
      this.mutableRows()[index] = update(row);
      return;
    }
    // Every row gets every field up front: one object shape keeps V8's spread copies on the fast path.
    const fresh = update({
      seq,
      at,
      method: undefined,
      path: undefined,
      webhookId: undefined,
      eventType: undefined,
      verdict: PENDING,
      forward: NO_FORWARD,
    });
    const mutable = this.mutableRows();
    const last = mutable[mutable.length - 1];
    if (!last || last.seq < seq) {
      mutable.push(fresh);
    } else {
      mutable.splice(insertionPoint(mutable, seq), 0, fresh);
    }
  }
}

const PENDING: RowVerdict = { kind: 'pending' };
const NO_FORWARD: RowForward = { kind: 'none' };

function withTarget(forward: RowForward, next: TargetForward): RowForward {
  const targets = forward.kind === 'reported' ? forward.targets : [];
  const index = targets.findIndex((t) => t.target === next.target);
  if (index < 0) return { kind: 'reported', targets: [...targets, next] };
  return { kind: 'reported', targets: targets.map((t, i) => (i === index ? next : t)) };
}

/** Binary search: rows are sorted by seq, and updates nearly always hit the newest rows. */
function indexOfSeq(rows: readonly DeliveryRow[], seq: number): number {
  const last = rows[rows.length - 1];
  if (last?.seq === seq) return rows.length - 1;
  const at = insertionPoint(rows, seq);
  return rows[at]?.seq === seq ? at : -1;
}

function insertionPoint(rows: readonly DeliveryRow[], seq: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((rows[mid] as DeliveryRow).seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lowerBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function assertNever(value: never): never {
  throw new Error(`unhandled listen event: ${JSON.stringify(value)}`);
}

// ---------------------------------------------------------------------------------------------
// Filters: what `f` cycles through.

export type RowFilter =
  | { kind: 'all' }
  | { kind: 'verdict'; verdict: 'verified' | 'rejected' | 'duplicate' }
  | { kind: 'forward_failed' }
  | { kind: 'event_type'; eventType: string };

/** The verdict filters first (the usual question is "what failed?"), then each event type seen. */
export function filterChoices(state: ListenUiState): RowFilter[] {
  return [
    { kind: 'all' },
    { kind: 'verdict', verdict: 'rejected' },
    { kind: 'forward_failed' },
    { kind: 'verdict', verdict: 'duplicate' },
    { kind: 'verdict', verdict: 'verified' },
    ...state.eventTypes.map((eventType): RowFilter => ({ kind: 'event_type', eventType })),
  ];
}

export function nextFilter(state: ListenUiState, current: RowFilter): RowFilter {
  const choices = filterChoices(state);
  const index = choices.findIndex((choice) => sameFilter(choice, current));
  return choices[(index + 1) % choices.length] ?? { kind: 'all' };
}

export function sameFilter(a: RowFilter, b: RowFilter): boolean {
  return filterLabel(a) === filterLabel(b);
}

export function filterLabel(filter: RowFilter): string {
  switch (filter.kind) {
    case 'all':
      return 'all';
    case 'verdict':
      return filter.verdict;
    case 'forward_failed':
      return 'forward failed';
    case 'event_type':
      return filter.eventType;
  }
}

export function matchesFilter(row: DeliveryRow, filter: RowFilter): boolean {
  switch (filter.kind) {
    case 'all':
      return true;
    case 'verdict':
      return row.verdict.kind === filter.verdict;
    case 'forward_failed':
      return row.forward.kind === 'reported' && row.forward.targets.some((t) => t.kind === 'failed');
    case 'event_type':
      return row.eventType === filter.eventType;
  }
}

export function visibleRows(state: ListenUiState, filter: RowFilter): readonly DeliveryRow[] {
  return filter.kind === 'all' ? state.rows : state.rows.filter((row) => matchesFilter(row, filter));
}
