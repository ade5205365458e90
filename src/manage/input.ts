import type { Readable } from 'node:stream';
import type { Io } from '../deps.js';
import { InterruptedError, UsageError } from '../errors.js';

/** stdin with the TTY controls a hidden prompt needs; node's tty.ReadStream fits. */
type TtyInput = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown; isRaw?: boolean };

/** All of stdin as text, for secrets and keys piped in (`pass show x | gemwh secret set ID`). */
export async function readAllInput(stdin: Readable, maxBytes = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > maxBytes) throw new UsageError(`stdin holds more than ${maxBytes} bytes; expected a single value`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads one line from the terminal without echoing it: raw mode, so the characters never reach
 * the screen, with backspace, Ctrl-U, Ctrl-C (interrupt) and Ctrl-D (end) handled by hand.
 */
export async function readHiddenLine(io: Io, prompt: string): Promise<string> {
  const stdin = io.stdin as TtyInput;
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') {
    throw new UsageError('cannot prompt for a hidden value: stdin is not a terminal', { hint: 'Pipe the value on stdin instead.' });
  }
  const setRawMode = stdin.setRawMode.bind(stdin);
  const wasRaw = stdin.isRaw === true;
  io.stderr.write(prompt);
  setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const finish = (outcome: () => void) => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        io.stderr.write('\n');
        outcome();
      };
      const onEnd = () => finish(() => resolve(value));
      const onData = (chunk: Buffer | string) => {
        for (const char of chunk.toString()) {
          if (char === '\r' || char === '\n' || char === '\u0004') return finish(() => resolve(value));
          if (char === '\u0003') return finish(() => reject(new InterruptedError('cancelled at the prompt')));
          if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
          else if (char === '\u0015') value = '';
          else if (char >= ' ') value += char;
        }
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
    });
  } finally {
    setRawMode(wasRaw);
    stdin.pause();
  }
}

/** A visible y/N question on the terminal; anything but y/yes is no. */
export async function confirm(io: Io, question: string): Promise<boolean> {
  io.stderr.write(`${question} [y/N] `);
  const answer = await readLine(io.stdin);
  return /^\s*y(es)?\s*$/i.test(answer);
}

function readLine(stdin: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const done = () => {
      stdin.off('data', onData);
      stdin.off('end', done);
      stdin.pause();
      resolve(text.split(/\r?\n/)[0] ?? '');
    };
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      if (text.includes('\n')) done();
    };
    stdin.on('data', onData);
    stdin.on('end', done);
    stdin.resume();
  });
}

/** A secret or key read from stdin (piped) or from a hidden prompt (terminal), trimmed. */
export async function readSecretInput(io: Io, prompt: string): Promise<string> {
  const text = io.stdin.isTTY ? await readHiddenLine(io, prompt) : await readAllInput(io.stdin);
  return text.trim();
}
