/**
 * Headers, bodies, event types and ids come from whoever sent the request: an escape sequence in
 * them must not reach the terminal (it could move the cursor, retitle the window, …). Control
 * characters are shown as visible escapes (`\x1b`); multi-line text is split before it gets here.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\t' ? '  ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
