import type { Tone } from './format.js';

/**
 * Text props for each tone. With colour off (NO_COLOR, or not a colour terminal) every style is
 * dropped, not only the hues: the marks (✓ ✗ DUP ›) carry the meaning on their own.
 */
export interface ToneStyle {
  color?: string;
  dimColor?: boolean;
  bold?: boolean;
  inverse?: boolean;
}

export interface Theme {
  color: boolean;
  tone(tone: Tone): ToneStyle;
  selected: ToneStyle;
  heading: ToneStyle;
}

const TONES: Record<Tone, ToneStyle> = {
  ok: { color: 'green' },
  bad: { color: 'red' },
  warn: { color: 'yellow' },
  dim: { dimColor: true },
  plain: {},
};

export function makeTheme(color: boolean): Theme {
  if (!color) return { color, tone: () => ({}), selected: {}, heading: {} };
  return { color, tone: (tone) => TONES[tone], selected: { inverse: true }, heading: { bold: true } };
}
