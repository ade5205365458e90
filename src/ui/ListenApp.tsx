import { Box, useApp, useInput, useStdin, useStdout, type Key } from 'ink';
import { useEffect, useMemo, useRef, useState } from 'react';
import { InterruptedError } from '../errors.js';
import type { StateBatcher } from './batcher.js';
import { curlExport, osc52, saveNewFile } from './curl-export.js';
import { detailLines, warningLines } from './detail-lines.js';
import { DeliveryList } from './DeliveryList.js';
import { DetailView, maxDetailScroll } from './DetailView.js';
import { printable, type KeyHint, type Tone } from './format.js';
import { Header, headerHeight } from './Header.js';
import { filterChoices, filterLabel, visibleRows, type DeliveryRow, type ListenUiState, type RowFilter } from './listen-state.js';
import { StatusBar } from './StatusBar.js';
import { makeTheme } from './theme.js';
import { Picker } from './Picker.js';
import type { ListenUiSession, ListenUiTrigger } from './types.js';

export interface ListenAppProps {
  batcher: StateBatcher;
  session: ListenUiSession;
  /** Offered as `t` only when given (listen --emulator). */
  trigger?: ListenUiTrigger;
  /** False for NO_COLOR or a terminal without colour: the caller decides, src/ui never reads env. */
  color: boolean;
  /** Terminal size; by default read from the stdout Ink renders to, and followed on resize. */
  columns?: number;
  rows?: number;
  /** Where `s` writes curl files: by default the folder listen runs in. */
  exportDir?: string;
}

type DetailNav = { kind: 'detail'; seq: number; scroll: number };
type TriggerNav = { kind: 'trigger'; index: number };
type FilterNav = { kind: 'filter'; index: number; query: string };
type WarningsNav = { kind: 'warnings'; scroll: number };

interface Nav {
  view: { kind: 'list' } | DetailNav | TriggerNav | FilterNav | WarningsNav;
  /** undefined: follow the newest delivery, like `tail -f`. */
  selectedSeq: number | undefined;
  filter: RowFilter;
}

const INITIAL_NAV: Nav = { view: { kind: 'list' }, selectedSeq: undefined, filter: { kind: 'all' } };

interface Message {
  text: string;
  tone: Tone;
}

/** Status bar (2) + the spare line that keeps Ink from clearing the whole screen each frame. */
const FOOTER_LINES = 3;

export function ListenApp({ batcher, session, trigger, color, columns, rows, exportDir = '.' }: ListenAppProps) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  // With stdin redirected there are no keys to read (and raw mode would throw): the UI still
  // shows the session, and Ctrl-C reaches cli.ts as a signal that stops it.
  const { isRawModeSupported } = useStdin();
  const size = useTerminalSize(columns, rows);
  const theme = useMemo(() => makeTheme(color), [color]);
  const [state, setState] = useState(() => batcher.current());
  const [nav, setNavState] = useState<Nav>(INITIAL_NAV);
  const [message, setMessage] = useState<Message | undefined>(undefined);
  const [finished, setFinished] = useState(false);
  // Keys can arrive faster than React re-renders (key repeat, paste, a burst of events between
  // two frames): handlers read and write these refs so a second key sees the first key's effect.
  const stateRef = useRef(state);
  const navRef = useRef(nav);
  const quittingRef = useRef(false);
  const shownDetail = useRef<{ seq: number; lineCount: number } | undefined>(undefined);
  const updateNav = (change: Partial<Nav>) => {
    navRef.current = { ...navRef.current, ...change };
    setNavState(navRef.current);
  };

  useEffect(
    () =>
      batcher.subscribe((next) => {
        stateRef.current = next;
        setState(next);
      }),
    [batcher],
  );

  useEffect(() => {
    let live = true;
    session.done.then(
      () => {
        if (!live) return;
        batcher.flush();
        setFinished(true);
      },
      (error: unknown) => {
        if (live) exit(error instanceof Error ? error : new Error(String(error)));
      },
    );
    return () => {
      live = false;
    };
  }, [session, batcher, exit]);

  // Once stopped the app draws nothing, and exits from an effect, after that empty frame has
  // replaced the live view: the caller prints a one-line summary where the view was.
  const gone = state.stopped !== undefined || finished;
  useEffect(() => {
    if (gone) exit();
  }, [gone, exit]);

  const bodyCapacity = Math.max(1, size.rows - headerHeight(state) - FOOTER_LINES);
  const listCapacity = Math.max(1, bodyCapacity - 1);
  const rowsShown = useMemo(() => visibleRows(state, nav.filter), [state, nav.filter]);
  const selectedIndex = indexForSeq(rowsShown, nav.selectedSeq);

  const view = nav.view;
  const detailSeq = view.kind === 'detail' ? view.seq : undefined;
  const warningsShown = useMemo(() => (view.kind === 'warnings' ? warningLines(state.warnings, size.columns) : undefined), [view.kind, state.warnings, size.columns]);
  const filterShown = view.kind === 'filter' ? filterMatches(state, view.query) : [];
  // Re-read on every published state so forward attempts appear while the view is open.
  const lines = useMemo(() => {
    if (detailSeq === undefined) return undefined;
    const details = session.getDelivery(detailSeq);
    return details ? detailLines(details, size.columns) : undefined;
  }, [detailSeq, session, state, size.columns]);
  shownDetail.current = detailSeq === undefined ? undefined : { seq: detailSeq, lineCount: lines?.length ?? 1 };
  const shownWarnings = useRef(0);
  shownWarnings.current = warningsShown?.length ?? 0;

  const quit = () => {
    if (quittingRef.current) return;
    quittingRef.current = true;
    setMessage({ text: 'stopping…', tone: 'dim' });
    session.stop('quit from the terminal UI').then(
      () => {
        batcher.flush();
        setFinished(true);
      },
      (error: unknown) => exit(error instanceof Error ? error : new Error(String(error))),
    );
  };

  const resend = (seq: number) => {
    if (stateRef.current.info?.forwardTargets.length === 0) {
      setMessage({ text: NO_TARGET_TO_FORWARD, tone: 'warn' });
      return;
    }
    setMessage({ text: `forwarding #${seq} again…`, tone: 'dim' });
    session.resend(seq).then(
      () => setMessage({ text: `forwarded #${seq} again: the results appear in its row`, tone: 'ok' }),
      (error: unknown) => setMessage({ text: `forwarding #${seq} again failed: ${errorText(error)}`, tone: 'bad' }),
    );
  };

  const saveCurl = (seq: number) => {
    const details = session.getDelivery(seq, { wholeBody: true });
    if (!details) {
      const webhookId = stateRef.current.rows.find((row) => row.seq === seq)?.webhookId;
      const command = webhookId ? `gemwh deliveries export ${printable(webhookId)} --as curl` : 'gemwh deliveries export ID --as curl (gemwh deliveries list shows the ID)';
      setMessage({ text: `#${seq} is no longer kept in memory: ${command} reads it from the journal`, tone: 'warn' });
      return;
    }
    const made = curlExport(details);
    if ('refusal' in made) {
      setMessage({ text: made.refusal, tone: 'warn' });
      return;
    }
    // The file is the dependable copy; the clipboard is asked as well, and nothing says whether
    // the terminal obliged. The sequence prints nothing, so it cannot disturb Ink's frame.
    const clipboard = osc52(made.command);
    if (clipboard !== undefined) stdout.write(clipboard);
    const copied = clipboard !== undefined ? 'clipboard asked (OSC 52)' : 'too long for the clipboard';
    saveNewFile(exportDir, made.fileStem, '.curl.sh', made.fileText).then(
      (path) => setMessage({ text: `saved #${seq} as curl to ${path} (0600); ${copied}; it posts to ${made.postsTo}`, tone: 'ok' }),
      (error: unknown) =>
        setMessage({ text: `saving #${seq} as curl failed: ${errorText(error)}${clipboard !== undefined ? '; clipboard asked (OSC 52)' : ''}`, tone: 'bad' }),
    );
  };

  const onListKey = (input: string, key: Key) => {
    const current = navRef.current;
    const shown = visibleRows(stateRef.current, current.filter);
    const index = indexForSeq(shown, current.selectedSeq);
    const select = (wanted: number) => {
      const clamped = Math.min(shown.length - 1, Math.max(0, wanted));
      const row = shown[clamped];
      // Reaching the newest row resumes following, so new deliveries keep the view at the bottom.
      updateNav({ selectedSeq: row === undefined || clamped === shown.length - 1 ? undefined : row.seq });
    };
    if (key.upArrow || input === 'k') select(index - 1);
    else if (key.downArrow || input === 'j') select(index + 1);
    else if (key.pageUp) select(index - listCapacity);
    else if (key.pageDown) select(index + listCapacity);
    else if (key.home) select(0);
    else if (key.end) updateNav({ selectedSeq: undefined });
    else if (key.return || input === 'd') {
      const row = shown[index];
      if (row) updateNav({ view: { kind: 'detail', seq: row.seq, scroll: 0 } });
    } else if (input === 'r') {
      const row = shown[index];
      if (row) resend(row.seq);
    } else if (input === 's') {
      const row = shown[index];
      if (row) saveCurl(row.seq);
      else setMessage({ text: 'no delivery to save yet', tone: 'dim' });
    } else if (input === 'f' || input === '/') {
      const choices = filterMatches(stateRef.current, '');
      const at = choices.findIndex((choice) => filterLabel(choice) === filterLabel(current.filter));
      updateNav({ view: { kind: 'filter', index: Math.max(0, at), query: '' } });
    } else if (key.escape && current.filter.kind !== 'all') {
      updateNav({ filter: { kind: 'all' }, selectedSeq: undefined });
      setMessage({ text: 'filter cleared: showing all deliveries', tone: 'dim' });
    } else if (input === 'w') {
      if (stateRef.current.warnings.length > 0) updateNav({ view: { kind: 'warnings', scroll: 0 } });
      else setMessage({ text: 'no warnings so far', tone: 'dim' });
    } else if (input === 'c') {
      batcher.push({ type: 'ui_clear' });
      batcher.flush();
      updateNav({ selectedSeq: undefined });
    } else if (input === 't') {
      if (trigger && trigger.eventTypes.length > 0) updateNav({ view: { kind: 'trigger', index: 0 } });
      else setMessage({ text: TRIGGER_UNAVAILABLE, tone: 'warn' });
    }
  };

  const onFilterKey = (input: string, key: Key, picker: FilterNav) => {
    const choices = filterMatches(stateRef.current, picker.query);
    const narrow = (query: string) => updateNav({ view: { kind: 'filter', index: 0, query } });
    if (key.escape) updateNav({ view: { kind: 'list' } });
    else if (key.upArrow) updateNav({ view: { ...picker, index: Math.max(0, picker.index - 1) } });
    else if (key.downArrow) updateNav({ view: { ...picker, index: Math.min(choices.length - 1, picker.index + 1) } });
    else if (key.return) {
      const chosen = choices[Math.min(picker.index, choices.length - 1)];
      updateNav({ view: { kind: 'list' }, ...(chosen ? { filter: chosen, selectedSeq: undefined } : {}) });
    } else if (key.backspace || key.delete) narrow(picker.query.slice(0, -1));
    else if (input && !key.ctrl && !key.meta && !/[\u0000-\u001f]/.test(input)) narrow(picker.query + input);
  };

  const onWarningsKey = (input: string, key: Key, at: WarningsNav) => {
    const maxScroll = maxDetailScroll(shownWarnings.current, bodyCapacity);
    const scrollTo = (scroll: number) => updateNav({ view: { kind: 'warnings', scroll: Math.min(maxScroll, Math.max(0, scroll)) } });
    if (key.escape || input === 'w' || key.backspace || key.leftArrow) updateNav({ view: { kind: 'list' } });
    else if (key.upArrow || input === 'k') scrollTo(at.scroll - 1);
    else if (key.downArrow || input === 'j') scrollTo(at.scroll + 1);
    else if (key.pageUp) scrollTo(at.scroll - bodyCapacity);
    else if (key.pageDown || input === ' ') scrollTo(at.scroll + bodyCapacity);
  };

  const onDetailKey = (input: string, key: Key, detail: DetailNav) => {
    const shownLines = shownDetail.current?.seq === detail.seq ? shownDetail.current.lineCount : Number.POSITIVE_INFINITY;
    const maxScroll = maxDetailScroll(shownLines, bodyCapacity);
    const scrollTo = (scroll: number) => updateNav({ view: { ...detail, scroll: Math.min(maxScroll, Math.max(0, scroll)) } });
    if (key.escape || input === 'd' || key.backspace || key.leftArrow) updateNav({ view: { kind: 'list' } });
    else if (key.upArrow || input === 'k') scrollTo(detail.scroll - 1);
    else if (key.downArrow || input === 'j') scrollTo(detail.scroll + 1);
    else if (key.pageUp) scrollTo(detail.scroll - bodyCapacity);
    else if (key.pageDown || input === ' ') scrollTo(detail.scroll + bodyCapacity);
    else if (key.home) scrollTo(0);
    else if (key.end) scrollTo(maxScroll);
    else if (input === 'r') resend(detail.seq);
    else if (input === 's') saveCurl(detail.seq);
  };

  const onTriggerKey = (input: string, key: Key, picker: TriggerNav) => {
    const types = trigger?.eventTypes ?? [];
    if (key.escape || input === 't') updateNav({ view: { kind: 'list' } });
    else if (key.upArrow || input === 'k') updateNav({ view: { kind: 'trigger', index: Math.max(0, picker.index - 1) } });
    else if (key.downArrow || input === 'j') updateNav({ view: { kind: 'trigger', index: Math.min(types.length - 1, picker.index + 1) } });
    else if (key.return) {
      const eventType = types[picker.index];
      updateNav({ view: { kind: 'list' } });
      if (eventType === undefined || !trigger) return;
      setMessage({ text: `triggering ${eventType}…`, tone: 'dim' });
      trigger.trigger(eventType).then(
        () => setMessage({ text: `triggered ${eventType}`, tone: 'ok' }),
        (error: unknown) => setMessage({ text: `trigger ${eventType} failed: ${errorText(error)}`, tone: 'bad' }),
      );
    }
  };

  useInput((input, key) => {
    if (key.ctrl && input === 'c' && quittingRef.current) {
      // Raw mode turns Ctrl-C into a key, so cli.ts never sees the second SIGINT that means
      // "stop waiting": do its job here when stopping takes too long.
      exit(new InterruptedError('interrupted while the listener was stopping'));
      return;
    }
    // In the filter picker q is a letter of the typed filter.
    const typing = navRef.current.view.kind === 'filter';
    if ((key.ctrl && input === 'c') || (input === 'q' && !key.ctrl && !typing)) {
      quit();
      return;
    }
    if (quittingRef.current) return;
    setMessage(undefined);
    const current = navRef.current.view;
    if (current.kind === 'list') onListKey(input, key);
    else if (current.kind === 'detail') onDetailKey(input, key, current);
    else if (current.kind === 'filter') onFilterKey(input, key, current);
    else if (current.kind === 'warnings') onWarningsKey(input, key, current);
    else onTriggerKey(input, key, current);
  }, { isActive: isRawModeSupported });

  let body;
  let keys: KeyHint[];
  // Without a target r can only say so: it is left out of the key bar, not out of the keys.
  const forwardAgainKey: KeyHint[] = state.info?.forwardTargets.length === 0 ? [] : [['r', 'forward again']];
  if (view.kind === 'detail') {
    const scroll = Math.min(view.scroll, maxDetailScroll(lines?.length ?? 0, bodyCapacity));
    body = (
      <DetailView
        lines={lines ?? [{ text: `#${view.seq} is no longer kept in memory (the journal has it).`, tone: 'dim' }]}
        scroll={scroll}
        capacity={bodyCapacity}
        theme={theme}
      />
    );
    keys = [
      ['↑↓', 'scroll'],
      ['esc/d', 'back'],
      ...forwardAgainKey,
      ['s', 'save as curl'],
      ['q', 'quit'],
    ];
  } else if (view.kind === 'warnings') {
    const warningList = warningsShown ?? [];
    body = <DetailView lines={warningList} scroll={Math.min(view.scroll, maxDetailScroll(warningList.length, bodyCapacity))} capacity={bodyCapacity} theme={theme} />;
    keys = [
      ['↑↓', 'scroll'],
      ['esc/w', 'back'],
      ['q', 'quit'],
    ];
  } else if (view.kind === 'filter') {
    body = (
      <Picker
        title="Show only (type to narrow):"
        choices={filterShown.map(filterLabel)}
        selectedIndex={Math.min(view.index, filterShown.length - 1)}
        capacity={bodyCapacity}
        query={view.query}
        emptyText={`no filter matches "${view.query}" (backspace to change it)`}
        theme={theme}
      />
    );
    keys = [
      ['↑↓', 'choose'],
      ['enter', 'apply'],
      ['esc', 'back'],
      ['Ctrl-C', 'quit'],
    ];
  } else if (view.kind === 'trigger') {
    body = <Picker title="Trigger a delivery of:" choices={trigger?.eventTypes ?? []} selectedIndex={view.index} capacity={bodyCapacity} theme={theme} />;
    keys = [
      ['↑↓', 'choose'],
      ['enter', 'trigger'],
      ['esc', 'back'],
      ['q', 'quit'],
    ];
  } else {
    body = (
      <DeliveryList
        rows={rowsShown}
        selectedIndex={selectedIndex}
        capacity={listCapacity}
        width={size.columns}
        showForward={showForwardColumn(state, rowsShown)}
        theme={theme}
        emptyText={emptyText(state.rows.length, nav.filter)}
      />
    );
    // At 80 columns not every key fits: the obvious and the rare ones give way first (the help
    // topic lists them all), so that q quit and the keys that say something stay.
    keys = [
      ['↑↓', 'select', 3],
      ['enter/d', 'detail'],
      ...forwardAgainKey,
      nav.filter.kind === 'all' ? ['f', 'filter', 1] : ['f/esc', `filter: ${filterLabel(nav.filter)}`],
      ['s', 'save as curl', 2],
      ...(state.warnings.length > 0 ? [['w', `warnings (${state.warnings.length})`] as KeyHint] : []),
      ['c', 'clear', 4],
      ...(trigger && trigger.eventTypes.length > 0 ? [['t', 'trigger'] as KeyHint] : []),
      ['q', 'quit'],
    ];
  }

  if (!isRawModeSupported) keys = [['Ctrl-C', 'stop (stdin is not a terminal, so no other keys)']];

  if (gone) return null;
  return (
    <Box flexDirection="column" width={size.columns}>
      <Header state={state} theme={theme} />
      {body}
      <StatusBar keys={keys} message={message} theme={theme} width={size.columns} />
    </Box>
  );
}

/** The row for `seq`, or the next newer one if it was evicted; the newest when following. */
function indexForSeq(rows: readonly DeliveryRow[], seq: number | undefined): number {
  if (rows.length === 0) return -1;
  if (seq === undefined) return rows.length - 1;
  const index = rows.findIndex((row) => row.seq >= seq);
  return index < 0 ? rows.length - 1 : index;
}

const NO_TARGET_TO_FORWARD = 'nothing to forward to: r needs a --forward or --route target';
const TRIGGER_UNAVAILABLE = 't sends a test event through the emulator: start with gemwh listen --emulator';

/** The filters whose label contains what was typed, in the usual order. */
function filterMatches(state: ListenUiState, query: string): RowFilter[] {
  const wanted = query.trim().toLowerCase();
  return filterChoices(state).filter((choice) => filterLabel(choice).toLowerCase().includes(wanted));
}

/**
 * No FORWARD column when there is no target: every row would say "not forwarded". A resumed
 * delivery from an earlier run with targets still shows where it went.
 */
function showForwardColumn(state: ListenUiState, rows: readonly DeliveryRow[]): boolean {
  if (!state.info || state.info.forwardTargets.length > 0) return true;
  return rows.some((row) => row.forward.kind === 'reported' || row.forward.kind === 'pending');
}

function emptyText(rowsKept: number, filter: RowFilter): string {
  if (rowsKept > 0) return `no delivery matches the filter "${filterLabel(filter)}" (f to change it, esc to show all)`;
  return 'waiting for deliveries…';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function useTerminalSize(columns: number | undefined, rows: number | undefined): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({
    columns: columns ?? (stdout.columns || 80),
    rows: rows ?? (stdout.rows || 24),
  });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    onResize();
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, columns, rows]);
  return size;
}
