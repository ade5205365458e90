import { Text } from 'ink';
import type { Tone } from './format.js';
import type { Theme } from './theme.js';

export interface StatusBarProps {
  keys: ReadonlyArray<[key: string, action: string]>;
  message?: { text: string; tone: Tone };
  theme: Theme;
}

/** Two lines: the last message (resend result, errors), then the keys that work right now. */
export function StatusBar({ keys, message, theme }: StatusBarProps) {
  return (
    <>
      <Text wrap="truncate-end" {...(message ? theme.tone(message.tone) : {})}>
        {message ? message.text : ' '}
      </Text>
      <Text wrap="truncate-end">
        {keys.map(([key, action], i) => (
          <Text key={key}>
            {i > 0 ? '  ' : ''}
            <Text {...theme.heading}>{key}</Text> {action}
          </Text>
        ))}
      </Text>
    </>
  );
}
