import type { ListenEvent } from './events.js';

/** Events kept for history(): enough for a consumer that subscribes late to catch up. */
export const HISTORY_KEPT = 1000;

/**
 * The session's event stream: synchronous listeners in emit order, a listener that throws is
 * dropped (never the session), and a bounded history for consumers that subscribe late.
 */
export class EventBus {
  private readonly listeners = new Set<(event: ListenEvent) => void>();
  // What emit() walks: a copy made when a listener comes or goes, not one per event.
  private list: Array<(event: ListenEvent) => void> = [];
  private readonly kept: ListenEvent[] = [];

  emit(event: ListenEvent): void {
    const kept = this.kept;
    kept.push(event);
    // Trimmed in chunks: dropping one element per event would shift the whole array every time.
    if (kept.length >= 2 * HISTORY_KEPT) kept.splice(0, kept.length - HISTORY_KEPT);
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      try {
        list[i]!(event);
      } catch {
        this.off(list[i]!);
      }
    }
  }

  on(listener: (event: ListenEvent) => void): () => void {
    this.listeners.add(listener);
    this.list = [...this.listeners];
    return () => this.off(listener);
  }

  history(): ListenEvent[] {
    return this.kept.slice(-HISTORY_KEPT);
  }

  /** Drops every listener (the history stays readable). */
  close(): void {
    this.listeners.clear();
    this.list = [];
  }

  private off(listener: (event: ListenEvent) => void): void {
    if (this.listeners.delete(listener)) this.list = [...this.listeners];
  }
}
