import { Box, Text } from 'ink';
import { memo } from 'react';
import { cellWidth, columnWidths, fit, rowCells, type ColumnWidths } from './format.js';
import type { DeliveryRow } from './listen-state.js';
import type { Theme } from './theme.js';

export interface DeliveryListProps {
  rows: readonly DeliveryRow[];
  /** Index into rows of the highlighted row, -1 for none. */
  selectedIndex: number;
  /** Lines available for rows (the column header line is extra). */
  capacity: number;
  width: number;
  /** False when nothing is forwarded anywhere: the FORWARD column would only say "not forwarded". */
  showForward: boolean;
  theme: Theme;
  emptyText: string;
}

/**
 * The first row to draw: the selection stays centred while there is room, and when following
 * the newest delivery (selection on the last row) the window is pinned to the bottom.
 */
export function windowStart(count: number, selectedIndex: number, capacity: number): number {
  const maxStart = Math.max(0, count - capacity);
  if (selectedIndex < 0) return maxStart;
  return Math.min(maxStart, Math.max(0, selectedIndex - Math.floor(capacity / 2)));
}

interface RowLineProps {
  row: DeliveryRow;
  selected: boolean;
  // The widths one by one, not as an object: memo compares props with ===.
  eventTypeWidth: number;
  seqWidth: number;
  webhookIdWidth: number;
  verdictWidth: number;
  forwardWidth: number;
  theme: Theme;
}

// Rows are immutable and keep their identity until an event touches them, so at 1,000
// deliveries/s most rows on screen skip React's work between two frames.
const RowLine = memo(function RowLine({ row, selected, eventTypeWidth, seqWidth, webhookIdWidth, verdictWidth, forwardWidth, theme }: RowLineProps) {
  const w = { time: 8, seq: seqWidth, eventType: eventTypeWidth, webhookId: webhookIdWidth, verdict: verdictWidth, forward: forwardWidth };
  const cells = rowCells(row);
  return (
    <Text wrap="truncate-end" {...(selected ? theme.selected : {})}>
      {selected ? '› ' : '  '}
      {fit(cells.time, w.time)} {fit(cells.seq, w.seq)} {fit(cells.eventType, w.eventType)} {w.webhookId > 0 ? `${fit(cells.webhookId, w.webhookId)} ` : ''}
      {w.forward > 0 && cells.forward.text !== '' ? (
        <>
          <Text {...theme.tone(cells.verdict.tone)}>{fit(cells.verdict.text, w.verdict)}</Text>{' '}
          <Text {...theme.tone(cells.forward.tone)}>{fit(cells.forward.text, w.forward).trimEnd()}</Text>
        </>
      ) : (
        // A rejected or duplicate row forwards nothing: its reason may use the FORWARD column too.
        <Text {...theme.tone(cells.verdict.tone)}>{fit(cells.verdict.text, w.forward > 0 ? w.verdict + 1 + w.forward : w.verdict).trimEnd()}</Text>
      )}
    </Text>
  );
});

/** Widths sized to the rows on screen (see columnWidths). */
export function listWidths(shown: readonly DeliveryRow[], width: number, showForward: boolean): ColumnWidths {
  const needs = { eventType: 5, verdict: 7, forward: 7 };
  let maxSeq = 999;
  for (const row of shown) {
    const cells = rowCells(row);
    needs.eventType = Math.max(needs.eventType, cellWidth(cells.eventType));
    // Rows that forward nothing spill their verdict into the FORWARD column, so only rows with a
    // forward cell need the verdict column wide.
    if (!showForward || cells.forward.text !== '') needs.verdict = Math.max(needs.verdict, cellWidth(cells.verdict.text));
    needs.forward = Math.max(needs.forward, cellWidth(cells.forward.text));
    maxSeq = Math.max(maxSeq, row.seq);
  }
  return columnWidths(width, { forward: showForward, needs, seqDigits: String(maxSeq).length });
}

export function DeliveryList({ rows, selectedIndex, capacity, width, showForward, theme, emptyText }: DeliveryListProps) {
  const start = windowStart(rows.length, selectedIndex, capacity);
  const shown = rows.slice(start, start + Math.max(0, capacity));
  const w = listWidths(shown, width, showForward);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end" {...theme.heading}>
        {'  '}
        {fit('TIME', w.time)} {fit('#', w.seq)} {fit('EVENT', w.eventType)} {w.webhookId > 0 ? `${fit('WEBHOOK-ID', w.webhookId)} ` : ''}{w.forward > 0 ? `${fit('VERDICT', w.verdict)} FORWARD` : 'VERDICT'}
      </Text>
      {shown.length === 0 ? (
        <Text {...theme.tone('dim')}>
          {'  '}
          {emptyText}
        </Text>
      ) : (
        shown.map((row, i) => (
          <RowLine
            key={row.seq}
            row={row}
            selected={start + i === selectedIndex}
            eventTypeWidth={w.eventType}
            seqWidth={w.seq}
            webhookIdWidth={w.webhookId}
            verdictWidth={w.verdict}
            forwardWidth={w.forward}
            theme={theme}
          />
        ))
      )}
    </Box>
  );
}
