import { Box, Text } from 'ink';
import { printable } from './format.js';
import type { Theme } from './theme.js';

export interface PickerProps {
  title: string;
  choices: readonly string[];
  selectedIndex: number;
  capacity: number;
  /** What the user typed to narrow the choices; shown after the title. */
  query?: string;
  emptyText?: string;
  theme: Theme;
}

/** A list to choose one line from: the trigger's event types, the filters. */
export function Picker({ title, choices, selectedIndex, capacity, query, emptyText, theme }: PickerProps) {
  const rowsForChoices = Math.max(1, capacity - 1);
  const start = Math.min(Math.max(0, choices.length - rowsForChoices), Math.max(0, selectedIndex - Math.floor(rowsForChoices / 2)));
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text {...theme.heading}>{title}</Text>
        {query === undefined ? '' : ` ${printable(query)}▏`}
      </Text>
      {choices.length === 0 ? (
        <Text {...theme.tone('dim')}>
          {'  '}
          {emptyText ?? 'nothing to choose'}
        </Text>
      ) : null}
      {choices.slice(start, start + rowsForChoices).map((choice, i) => {
        const selected = start + i === selectedIndex;
        return (
          <Text key={choice} wrap="truncate-end" {...(selected ? theme.selected : {})}>
            {selected ? '› ' : '  '}
            {printable(choice)}
          </Text>
        );
      })}
    </Box>
  );
}
