import type { IncomingMessage } from 'node:http';

// The one way gemwh's servers (listen's receiver, the emulator) read a request body with a limit.

export type BodyResult = { kind: 'complete'; body: Buffer } | { kind: 'too_large'; seenBytes: number; start: Buffer } | { kind: 'aborted' };

/** How much of an oversized body is kept for the journal record. */
export const OVERSIZED_START_BYTES = 4096;

export interface ReadBodyOptions {
  /**
   * `stop` (listen): settle at the first byte past `max`, paused; the caller answers 413 and
   * closes the connection, and the rest is never read. `drain` (the emulator, like the real API):
   * read the rest and drop it, settling at the end, so the connection stays usable.
   */
  whenTooLarge?: 'stop' | 'drain';
}

/** Reads the request body, keeping at most `max` bytes; a client that hangs up gives `aborted`. */
export function readBodyLimited(req: IncomingMessage, max: number, options: ReadBodyOptions = {}): Promise<BodyResult> {
  return new Promise((resolve) => readBody(req, max, options, resolve));
}

/**
 * readBodyLimited with a callback, called exactly once: listen reads every delivery with it,
 * where a promise and its microtask per request are a measurable part of the cost.
 */
export function readBody(req: IncomingMessage, max: number, options: ReadBodyOptions, resolve: (result: BodyResult) => void): void {
  const drain = options.whenTooLarge === 'drain';
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  let start: Buffer | undefined;
  const finish = (result: BodyResult) => {
    if (settled) return;
    settled = true;
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', onClose);
    req.off('error', onClose);
    resolve(result);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (start !== undefined) return;
    if (size > max) {
      // The crossing chunk counts too: what is kept must not depend on how TCP cut the body.
      start = Buffer.concat([...chunks, chunk]).subarray(0, OVERSIZED_START_BYTES);
      chunks.length = 0;
      if (drain) return;
      req.pause();
      finish({ kind: 'too_large', seenBytes: size, start });
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () =>
    finish(
      start !== undefined
        ? { kind: 'too_large', seenBytes: size, start }
        : { kind: 'complete', body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) },
    );
  const onClose = () => finish({ kind: 'aborted' });
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('close', onClose);
  req.on('error', onClose);
}
