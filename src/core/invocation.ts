/**
 * How the user started gemwh, for hints that tell them what to type next: `npx gemwh` when npm
 * exec (npx) ran it — gemwh is then usually not on PATH — `gemwh` otherwise.
 */
export function invocation(env: Readonly<Record<string, string | undefined>>): string {
  return env.npm_command === 'exec' || env.npm_lifecycle_event === 'npx' ? 'npx gemwh' : 'gemwh';
}

/**
 * `text` with every command line (`gemwh <command>`, `gemwh --flag`) written the way the user
 * started gemwh; prose such as "gemwh keeps the secret" is left alone.
 */
export function asInvoked(text: string, env: Readonly<Record<string, string | undefined>>, commands: readonly string[]): string {
  const name = invocation(env);
  if (name === 'gemwh') return text;
  const words = new Set(commands);
  return text.replace(/(^|[\s`'"(=])gemwh(?= (--?[a-z]|([a-z-]+)))/gm, (match, before: string, _next: string, word?: string) =>
    word === undefined || words.has(word) ? `${before}${name}` : match,
  );
}
