import { EVENTS_CHANNEL } from '@herald/protocol';
import type { Broker } from './broker.js';

/** The single-process broker: what is published is delivered to this process only. */
export class MemoryBroker implements Broker {
  readonly kind = 'memory' as const;
  #onMessage: ((raw: string) => void) | undefined;

  async start(onMessage: (raw: string) => void): Promise<void> {
    this.#onMessage = onMessage;
  }

  async publish(raw: string, channel: string = EVENTS_CHANNEL): Promise<void> {
    // Other channels (open_in_editor) have no listener without Redis.
    if (channel === EVENTS_CHANNEL) this.#onMessage?.(raw);
  }

  status() {
    return { ready: true };
  }

  reconnects(): number {
    return 0;
  }

  async close(): Promise<void> {
    this.#onMessage = undefined;
  }
}
