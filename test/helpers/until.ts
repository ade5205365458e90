export interface UntilOptions {
  /** How long to keep probing; the test fails with `what` when it runs out. */
  timeoutMs?: number;
  /** What the failure message shows of the state (captured output, say). */
  describe?: () => string;
  /** Stops waiting early: a reason when the condition can no longer come true (the process exited). */
  giveUpIf?: () => string | undefined;
}

/**
 * Polls `probe` every 10 ms until it returns something other than undefined or false, and
 * resolves with that. The one way tests wait for something asynchronous to show up.
 */
export async function until<T>(what: string, probe: () => T | undefined | false, options: UntilOptions = {}): Promise<T> {
  const { timeoutMs = 5000, describe, giveUpIf } = options;
  const details = () => (describe ? `\n${describe()}` : '');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    const reason = giveUpIf?.();
    if (reason !== undefined) throw new Error(`${reason} before ${what}${details()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${details()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
