import { Text } from 'ink';
import { fitKeys, type KeyHint, type Tone } from './format.js';
import type { Theme } from './theme.js';

export interface StatusBarProps {
  keys: readonly KeyHint[];
  message?: { text: string; tone: Tone };
  theme: Theme;
  /** Terminal columns: keys with a drop rank give way when the bar would be wider. */
  width: number;
}

/** Two lines: the last message (resend result, errors), then the keys that work right now. */
export function StatusBar({ keys, message, theme, width }: StatusBarProps) {
  return (
    <>
      <Text wrap="truncate-end" {...(message ? theme.tone(message.tone) : {})}>
        {message ? message.text : ' '}
      </Text>
      <Text wrap="truncate-end">
        {fitKeys(keys, width).map(([key, action], i) => (
          <Text key={key}>
            {i > 0 ? '  ' : ''}
            <Text {...theme.heading}>{key}</Text> {action}
          </Text>
        ))}
      </Text>
    </>
  );
}
