/** A server-sent event as the relay sends it: `event`, `id`, and the joined `data` lines. */
export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/**
 * Splits a text/event-stream into events (the parts of the format the relay uses: event, id,
 * data, comments). Feed it chunks as they arrive; it keeps a partial event between chunks.
 */
export class SseParser {
  private buffer = '';
  private readonly decoder = new TextDecoder();

  push(chunk: Uint8Array): SseEvent[] {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    const events: SseEvent[] = [];
    for (;;) {
      const end = this.buffer.search(/\r?\n\r?\n/);
      if (end < 0) break;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const event: SseEvent = { event: 'message', data: '' };
      const data: string[] = [];
      let any = false;
      for (const line of block.split(/\r?\n/)) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event.event = value;
        else if (field === 'id') event.id = value;
        else if (field === 'data') data.push(value);
        else continue;
        any = true;
      }
      if (!any) continue;
      event.data = data.join('\n');
      events.push(event);
    }
    return events;
  }
}
