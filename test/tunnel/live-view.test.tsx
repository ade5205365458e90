import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { ListenEvent } from '../../src/listen/events.js';
import { formatEventLine } from '../../src/listen/output.js';
import { createStateBatcher } from '../../src/ui/batcher.js';
import { ListenApp } from '../../src/ui/ListenApp.js';
import { FakeSession, READY } from '../ui/fake-session.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const PUBLIC = 'https://seasonal-deck-organisms-sf.trycloudflare.com/webhook';

describe('the public URL of --tunnel / --public-url', () => {
  it('is in the header of the live view, and tunnel warnings show there at once', async () => {
    const session = new FakeSession([{ ...READY, publicUrl: PUBLIC } as ListenEvent]);
    const batcher = createStateBatcher({ intervalMs: 5 });
    const unsubscribe = session.on((event) => batcher.push(event));
    for (const event of session.history()) batcher.push(event);
    const app = render(<ListenApp batcher={batcher} session={session} color={false} rows={30} columns={200} />);
    cleanups.push(() => {
      unsubscribe();
      app.unmount();
      batcher.close();
    });
    const waitFor = async (text: string) => {
      const deadline = Date.now() + 3000;
      while (!(app.lastFrame() ?? '').includes(text)) {
        if (Date.now() > deadline) throw new Error(`no frame with ${text}:\n${app.lastFrame()}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    await waitFor(`via ${PUBLIC}`);
    session.emit({ type: 'warning', at: Date.now(), message: 'tunnel down: cloudflared exited with code 1; restarting cloudflared in 1s' });
    await waitFor('tunnel down: cloudflared exited with code 1');
  });

  it('is a line of its own in the plain-line output', () => {
    const line = formatEventLine({ ...(READY as Extract<ListenEvent, { type: 'ready' }>), publicUrl: PUBLIC });
    expect(line).toContain(`\n          public URL ${PUBLIC}`);
  });
});
