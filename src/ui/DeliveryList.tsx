import { Box, Text } from 'ink';
import { memo } from 'react';
import { columnWidths, fit, rowCells } from './format.js';
import type { DeliveryRow } from './listen-state.js';
import type { Theme } from './theme.js';

export interface DeliveryListProps {
  rows: readonly DeliveryRow[];
  /** Index into rows of the highlighted row, -1 for none. */
  selectedIndex: number;
  /** Lines available for rows (the column header line is extra). */
  capacity: number;
  width: number;
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
  width: number;
  theme: Theme;
}

// Rows are immutable and keep their identity until an event touches them, so at 1,000
// deliveries/s most rows on screen skip React's work between two frames.
const RowLine = memo(function RowLine({ row, selected, width, theme }: RowLineProps) {
  const w = columnWidths(width);
  const cells = rowCells(row);
  return (
    <Text wrap="truncate-end" {...(selected ? theme.selected : {})}>
      {selected ? '› ' : '  '}
      {fit(cells.time, w.time)} {fit(cells.seq, w.seq)} {fit(cells.eventType, w.eventType)} {fit(cells.webhookId, w.webhookId)}{' '}
      <Text {...theme.tone(cells.verdict.tone)}>{fit(cells.verdict.text, w.verdict)}</Text>{' '}
      <Text {...theme.tone(cells.forward.tone)}>{fit(cells.forward.text, w.forward).trimEnd()}</Text>
    </Text>
  );
});

export function DeliveryList({ rows, selectedIndex, capacity, width, theme, emptyText }: DeliveryListProps) {
  const start = windowStart(rows.length, selectedIndex, capacity);
  const shown = rows.slice(start, start + Math.max(0, capacity));
  const w = columnWidths(width);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end" {...theme.heading}>
        {'  '}
        {fit('TIME', w.time)} {fit('#', w.seq)} {fit('EVENT', w.eventType)} {fit('WEBHOOK-ID', w.webhookId)} {fit('VERDICT', w.verdict)}{' '}
        FORWARD
      </Text>
      {shown.length === 0 ? (
        <Text {...theme.tone('dim')}>
          {'  '}
          {emptyText}
        </Text>
      ) : (
        shown.map((row, i) => <RowLine key={row.seq} row={row} selected={start + i === selectedIndex} width={width} theme={theme} />)
      )}
    </Box>
  );
}
