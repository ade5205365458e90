import { describe, expect, it } from 'vitest';
import type { ListenEvent } from '../../src/listen/events.js';
import { createStateBatcher, type Scheduler } from '../../src/ui/batcher.js';
import type { ListenUiState } from '../../src/ui/listen-state.js';
import { deliveredEvents, READY } from './fake-session.js';

/** A scheduler the test fires by hand, counting what was scheduled. */
function manualScheduler() {
  const queue: Array<{ run: () => void; cancelled: boolean; delayMs: number }> = [];
  const schedule: Scheduler = (run, delayMs) => {
    const entry = { run, cancelled: false, delayMs };
    queue.push(entry);
    return () => {
      entry.cancelled = true;
    };
  };
  return {
    schedule,
    pending: () => queue.filter((e) => !e.cancelled).length,
    fire() {
      const due = queue.splice(0).filter((e) => !e.cancelled);
      for (const entry of due) entry.run();
      return due.length;
    },
    delays: () => queue.map((e) => e.delayMs),
  };
}

describe('createStateBatcher', () => {
  it('publishes a burst of events as one state per interval', () => {
    const clock = manualScheduler();
    const batcher = createStateBatcher({ schedule: clock.schedule, intervalMs: 80 });
    const published: ListenUiState[] = [];
    batcher.subscribe((state) => published.push(state));

    batcher.push(READY);
    for (let seq = 1; seq <= 1000; seq++) for (const event of deliveredEvents(seq)) batcher.push(event);
    expect(published).toHaveLength(0);
    expect(clock.pending()).toBe(1);
    expect(clock.delays()).toEqual([80]);

    clock.fire();
    expect(published).toHaveLength(1);
    expect(published[0]?.counters.forwarded).toBe(1000);
    expect(published[0]?.rows).toHaveLength(500);
  });

  it('publishes nothing when nothing changed', () => {
    const clock = manualScheduler();
    const batcher = createStateBatcher({ schedule: clock.schedule });
    const published: ListenUiState[] = [];
    batcher.subscribe((state) => published.push(state));
    batcher.flush();
    expect(published).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });

  it('folds events pushed before anyone subscribed and publishes them once someone does', () => {
    const clock = manualScheduler();
    const batcher = createStateBatcher({ schedule: clock.schedule });
    for (const event of deliveredEvents(1)) batcher.push(event);
    expect(clock.pending()).toBe(0);
    expect(batcher.current().rows).toHaveLength(1);

    const published: ListenUiState[] = [];
    batcher.subscribe((state) => published.push(state));
    batcher.push(deliveredEvents(2)[0] as ListenEvent);
    clock.fire();
    expect(published.map((s) => s.rows.length)).toEqual([2]);
  });

  it('flushes at once on demand, cancelling the pending timer', () => {
    const clock = manualScheduler();
    const batcher = createStateBatcher({ schedule: clock.schedule });
    const published: ListenUiState[] = [];
    batcher.subscribe((state) => published.push(state));
    for (const event of deliveredEvents(1)) batcher.push(event);
    batcher.push({ type: 'ui_clear' });
    batcher.flush();
    expect(published.map((s) => s.rows.length)).toEqual([0]);
    expect(clock.fire()).toBe(0);
  });

  it('stops publishing once closed', () => {
    const clock = manualScheduler();
    const batcher = createStateBatcher({ schedule: clock.schedule });
    const published: ListenUiState[] = [];
    batcher.subscribe((state) => published.push(state));
    batcher.push(READY);
    batcher.close();
    batcher.push(deliveredEvents(1)[0] as ListenEvent);
    clock.fire();
    batcher.flush();
    expect(published).toHaveLength(0);
    expect(batcher.current().rows).toHaveLength(1);
  });

  it('publishes with real timers within the interval', async () => {
    const batcher = createStateBatcher({ intervalMs: 20 });
    const seen = new Promise<ListenUiState>((resolve) => batcher.subscribe(resolve));
    batcher.push(READY);
    const state = await seen;
    expect(state.info?.url).toBe('http://127.0.0.1:8787/webhook');
    batcher.close();
  });
});
