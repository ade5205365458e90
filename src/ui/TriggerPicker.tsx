import { Box, Text } from 'ink';
import type { Theme } from './theme.js';

export interface TriggerPickerProps {
  eventTypes: readonly string[];
  selectedIndex: number;
  capacity: number;
  theme: Theme;
}

export function TriggerPicker({ eventTypes, selectedIndex, capacity, theme }: TriggerPickerProps) {
  const rowsForTypes = Math.max(1, capacity - 1);
  const start = Math.min(Math.max(0, eventTypes.length - rowsForTypes), Math.max(0, selectedIndex - Math.floor(rowsForTypes / 2)));
  return (
    <Box flexDirection="column">
      <Text {...theme.heading}>Trigger a delivery of:</Text>
      {eventTypes.slice(start, start + rowsForTypes).map((eventType, i) => {
        const selected = start + i === selectedIndex;
        return (
          <Text key={eventType} {...(selected ? theme.selected : {})}>
            {selected ? '› ' : '  '}
            {eventType}
          </Text>
        );
      })}
    </Box>
  );
}
