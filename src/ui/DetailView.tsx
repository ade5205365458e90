import { Box, Text } from 'ink';
import type { DetailLine } from './detail-lines.js';
import type { Theme } from './theme.js';

export interface DetailViewProps {
  lines: readonly DetailLine[];
  /** First line shown; clamped by the caller with maxDetailScroll. */
  scroll: number;
  capacity: number;
  theme: Theme;
}

export function maxDetailScroll(lineCount: number, capacity: number): number {
  return Math.max(0, lineCount - capacity);
}

export function DetailView({ lines, scroll, capacity, theme }: DetailViewProps) {
  const shown = lines.slice(scroll, scroll + Math.max(1, capacity));
  return (
    <Box flexDirection="column">
      {shown.map((line, i) => (
        <Text key={scroll + i} wrap="truncate-end" {...theme.tone(line.tone)} {...(line.bold ? theme.heading : {})}>
          {line.text === '' ? ' ' : line.text}
        </Text>
      ))}
    </Box>
  );
}
