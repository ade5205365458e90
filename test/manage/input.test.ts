import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InterruptedError, UsageError } from '../../src/errors.js';
import { readAllInput, readHiddenLine, readSecretInput } from '../../src/manage/input.js';
import { makeTestDeps } from '../helpers/deps.js';

/** A terminal stdin: a stream that records raw-mode switches, as tty.ReadStream would make them. */
function fakeTerminal() {
  const stdin = new PassThrough() as PassThrough & { isTTY: boolean; isRaw: boolean; setRawMode(mode: boolean): void; modes: boolean[] };
  stdin.isTTY = true;
  stdin.isRaw = false;
  stdin.modes = [];
  stdin.setRawMode = (mode: boolean) => {
    stdin.isRaw = mode;
    stdin.modes.push(mode);
  };
  return stdin;
}

describe('reading secrets', () => {
  it('reads a hidden line in raw mode, handling backspace, and never echoes it', async () => {
    const stdin = fakeTerminal();
    const t = makeTestDeps({ stdin, stdinIsTTY: true });
    try {
      const reading = readHiddenLine(t.deps.io, 'Key: ');
      stdin.write('AIzaX');
      stdin.write('\u007fSy-secret\r');
      expect(await reading).toBe('AIzaSy-secret');
      expect(t.stderr()).toBe('Key: \n');
      expect(stdin.modes).toEqual([true, false]);
    } finally {
      t.cleanup();
    }
  });

  it('treats Ctrl-C as an interruption and restores the terminal', async () => {
    const stdin = fakeTerminal();
    const t = makeTestDeps({ stdin, stdinIsTTY: true });
    try {
      const reading = readHiddenLine(t.deps.io, 'Key: ');
      stdin.write('abc\u0003');
      await expect(reading).rejects.toBeInstanceOf(InterruptedError);
      expect(stdin.isRaw).toBe(false);
    } finally {
      t.cleanup();
    }
  });

  it('reads piped stdin whole and trims it', async () => {
    const t = makeTestDeps({ stdin: '  whsec_abc\n' });
    try {
      expect(await readSecretInput(t.deps.io, 'unused')).toBe('whsec_abc');
      expect(t.stderr()).toBe('');
    } finally {
      t.cleanup();
    }
  });

  it('refuses more than a single value on stdin', async () => {
    const t = makeTestDeps({ stdin: 'x'.repeat(100) });
    try {
      await expect(readAllInput(t.deps.io.stdin, 10)).rejects.toBeInstanceOf(UsageError);
    } finally {
      t.cleanup();
    }
  });
});
