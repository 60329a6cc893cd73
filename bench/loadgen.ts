// A light Socket.IO client for load: raw `ws` speaking Engine.IO v4 / Socket.IO v5 framing.
import WebSocket from 'ws';

/** One benchmark socket of one user on one site. */
export class LoadSocket {
  ws: WebSocket | undefined;
  connected = false;
  received = 0;
  #acks = new Map<number, () => void>();
  #nextAck = 1;
  #waiters: ((error?: Error) => void)[] = [];
  onEvent: ((event: string, data: unknown, receivedAt: number) => void) | undefined;

  constructor(
    readonly port: number,
    readonly site: string,
    readonly sid: string,
  ) {}

  /** Opens the connection and joins the site namespace; rejects on a connect error. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiters.push((error) => (error ? reject(error) : resolve()));
      const ws = new WebSocket(`ws://127.0.0.1:${this.port}/socket.io/?EIO=4&transport=websocket`, {
        headers: {
          host: `${this.site}:${this.port}`,
          origin: `http://${this.site}:${this.port}`,
          cookie: `sid=${this.sid}`,
        },
        perMessageDeflate: false,
      });
      this.ws = ws;
      ws.on('message', (raw) => this.#onMessage(raw.toString()));
      ws.on('error', (error) => this.#settle(error));
      ws.on('close', () => {
        this.connected = false;
        this.#settle(new Error('closed'));
      });
    });
  }

  #settle(error?: Error) {
    for (const waiter of this.#waiters.splice(0)) waiter(error);
  }

  #onMessage(text: string): void {
    const prefix = `4`;
    if (text === '2') return void this.ws?.send('3');
    if (text.startsWith('0')) return void this.ws?.send(`40/${this.site},`);
    if (!text.startsWith(prefix)) return;
    const type = text[1];
    const body = text.slice(2 + this.site.length + 2); // after "4x/<site>,"
    if (type === '0') {
      this.connected = true;
      this.#settle();
    } else if (type === '4') {
      this.#settle(new Error(`connect error ${body}`));
    } else if (type === '2') {
      const at = performance.now();
      this.received += 1;
      if (this.onEvent) {
        const args = JSON.parse(body) as [string, unknown];
        this.onEvent(args[0], args[1], at);
      }
    } else if (type === '3') {
      const id = Number.parseInt(body, 10);
      this.#acks.get(id)?.();
      this.#acks.delete(id);
    }
  }

  /** Emits an event; with `ack`, resolves on the server's acknowledgement (Herald answers every request). */
  emit(event: string, args: unknown[], ack = false): Promise<void> {
    if (!ack) {
      this.ws?.send(`42/${this.site},${JSON.stringify([event, ...args])}`);
      return Promise.resolve();
    }
    const id = this.#nextAck++;
    return new Promise((resolve) => {
      this.#acks.set(id, resolve);
      this.ws?.send(`42/${this.site},${id}${JSON.stringify([event, ...args])}`);
    });
  }

  close(): void {
    this.ws?.terminate();
  }
}

/** Runs `work` over `items` with at most `limit` at a time. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}
