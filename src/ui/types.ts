import type { ListenSession } from '../listen/session-types.js';

/**
 * What the TUI needs from a listen session: the parts of ListenSession it calls, so tests (and a
 * replayed journal, one day) can hand it a small object instead of a running server.
 */
export type ListenUiSession = Pick<ListenSession, 'on' | 'history' | 'getDelivery' | 'resend' | 'stop' | 'done'>;

/**
 * `t` in the UI: only offered when the caller can make deliveries happen (`listen --emulator`).
 * The event types come from the event catalog; trigger() resolves once the delivery is queued.
 */
export interface ListenUiTrigger {
  eventTypes: readonly string[];
  trigger(eventType: string): Promise<void>;
}
