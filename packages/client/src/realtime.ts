import { io, type Socket } from 'socket.io-client';
import { PERMANENT_CONNECT_ERRORS, RealtimeError } from './errors.js';
import type { EventData } from './events.js';
import { type ConnectionStatus, type Observable, Store } from './status.js';

/** How to reach Herald (or any Frappe realtime server). */
export interface RealtimeOptions {
  /** The realtime server's origin, e.g. `https://erp.example.com` or `http://localhost:9000`. */
  url: string;
  /** The site: the namespace is `/<site>`. */
  site: string;
  /** An API token `key:secret` (sent as `Authorization: token key:secret`) or a whole Authorization value. */
  token?: string;
  /** Send cookies cross-origin (browsers). */
  withCredentials?: boolean;
  /** Extra handshake headers (Node only: Cookie, Origin, Host...). */
  headers?: Record<string, string>;
  /** Socket.IO path (default `/socket.io`). */
  path?: string;
  /** Transports (default: polling then websocket). */
  transports?: ('polling' | 'websocket')[];
  /** Reconnection backoff: first delay, cap, and jitter (0 to 1). It never gives up. */
  reconnection?: { initialDelayMs?: number; maxDelayMs?: number; jitter?: number };
  /** How long one request may wait for the server's answer (default 10 s). */
  ackTimeoutMs?: number;
}

/** Why the app should refetch: the connection came back without the events it missed. */
export interface ResyncInfo {
  reason: 'not-recovered';
}

type Key = string;
interface Wanted {
  subscribe: [string, ...unknown[]];
  unsubscribe: [string, ...unknown[]];
  /** Settles when the server answered the first subscribe of this key. */
  done: Promise<void>;
  settle?: { resolve(): void; reject(error: unknown): void };
}

const unwrap = (args: unknown[]) => args[0];

/**
 * A frappe.realtime-compatible client that never loses a subscription: it reconnects forever
 * (jittered exponential backoff), restores every doc, doctype and task subscription and every open
 * document after a reconnect the server could not recover, queues calls made while disconnected,
 * and de-duplicates repeated subscriptions.
 */
export class Realtime {
  /** The underlying socket.io-client socket. */
  readonly socket: Socket;
  /** Where the connection stands. */
  readonly status: Observable<ConnectionStatus>;
  /** Whether the last reconnect was recovered by the server (no event missed, rooms kept). */
  recovered = false;
  /** The last connect error, if any. */
  lastError: Error | undefined;

  readonly #status = new Store<ConnectionStatus>('connecting');
  readonly #wanted = new Map<Key, Wanted>();
  /** Calls made while disconnected, in order; `want` marks a subscribe of that key. */
  readonly #queue: { want?: Key; run: () => void }[] = [];
  readonly #wrappers = new WeakMap<(...args: never[]) => void, (...args: unknown[]) => void>();
  readonly #resync = new Set<(info: ResyncInfo) => void>();
  readonly #ackTimeoutMs: number;
  readonly #retry: { initialDelayMs: number; maxDelayMs: number; jitter: number };
  #connectedOnce = false;
  #closed = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;

  constructor(options: RealtimeOptions) {
    this.status = this.#status;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.#retry = { initialDelayMs: 500, maxDelayMs: 10_000, jitter: 0.5, ...options.reconnection };
    const headers: Record<string, string> = { ...options.headers };
    if (options.token)
      headers.authorization = /\s/.test(options.token) ? options.token : `token ${options.token}`;
    this.socket = io(`${options.url.replace(/\/+$/, '')}/${options.site}`, {
      path: options.path,
      transports: options.transports,
      withCredentials: options.withCredentials,
      extraHeaders: Object.keys(headers).length ? headers : undefined,
      reconnection: true,
      reconnectionAttempts: Number.POSITIVE_INFINITY,
      reconnectionDelay: this.#retry.initialDelayMs,
      reconnectionDelayMax: this.#retry.maxDelayMs,
      randomizationFactor: this.#retry.jitter,
    });
    this.socket.on('connect', () => this.#onConnect());
    this.socket.on('disconnect', (reason) => {
      if (this.#closed) return;
      this.#status.set('reconnecting');
      // The server closed the namespace itself: socket.io-client would not come back alone.
      if (reason === 'io server disconnect') this.#scheduleRetry();
    });
    this.socket.on('connect_error', (error: Error) => {
      this.lastError = error;
      if (this.#closed) return;
      if (this.socket.active) {
        this.#status.set(this.#connectedOnce ? 'reconnecting' : 'connecting');
      } else if (PERMANENT_CONNECT_ERRORS.includes(error.message)) {
        // Retrying cannot help (origin, namespace or missing credentials): say so and stop.
        this.#status.set('offline');
      } else {
        // Refused by the server's middleware (e.g. the backend was down): try again later.
        this.#status.set(this.#connectedOnce ? 'reconnecting' : 'connecting');
        this.#scheduleRetry();
      }
    });
  }

  /** Listens for an event (the handler gets its data, as frappe.realtime.on). */
  on<E extends string>(event: E, handler: (data: EventData<E>) => void): this {
    let wrapper = this.#wrappers.get(handler as (...args: never[]) => void);
    if (!wrapper) {
      wrapper = (...args: unknown[]) => handler(unwrap(args) as EventData<E>);
      this.#wrappers.set(handler as (...args: never[]) => void, wrapper);
    }
    this.socket.on(event as string, wrapper);
    return this;
  }

  /** Stops listening: one handler, or every handler of the event. */
  off(event: string, handler?: (data: never) => void): this {
    if (!handler) this.socket.removeAllListeners(event);
    else {
      const wrapper = this.#wrappers.get(handler as (...args: never[]) => void);
      if (wrapper) this.socket.off(event, wrapper);
    }
    return this;
  }

  /** Listens to every event. */
  onAny(handler: (event: string, data: unknown) => void): this {
    this.socket.onAny((event: string, ...args: unknown[]) => handler(event, unwrap(args)));
    return this;
  }

  /** Sends an event to the server (queued while disconnected). */
  emit(event: string, ...args: unknown[]): this {
    this.#whenConnected(() => this.socket.emit(event, ...args));
    return this;
  }

  /** frappe.realtime.publish: the same as emit. */
  publish(event: string, message?: unknown): this {
    return this.emit(event, message);
  }

  /** Subscribes to a document's events (`doc:<dt>/<dn>`); rejects with the server's code when refused. */
  docSubscribe(doctype: string, docname: string | number): Promise<void> {
    return this.#want(
      `doc\0${doctype}\0${docname}`,
      ['doc_subscribe', doctype, docname],
      ['doc_unsubscribe', doctype, docname],
    );
  }
  /** Stops a document's events. */
  docUnsubscribe(doctype: string, docname: string | number): Promise<void> {
    return this.#unwant(`doc\0${doctype}\0${docname}`);
  }
  /** Subscribes to a doctype's list events (`doctype:<dt>`). */
  doctypeSubscribe(doctype: string): Promise<void> {
    return this.#want(
      `doctype\0${doctype}`,
      ['doctype_subscribe', doctype],
      ['doctype_unsubscribe', doctype],
    );
  }
  /** Stops a doctype's list events. */
  doctypeUnsubscribe(doctype: string): Promise<void> {
    return this.#unwant(`doctype\0${doctype}`);
  }
  /** Marks a document open (presence: others get `doc_viewers`). */
  docOpen(doctype: string, docname: string | number): Promise<void> {
    return this.#want(
      `open\0${doctype}\0${docname}`,
      ['doc_open', doctype, docname],
      ['doc_close', doctype, docname],
    );
  }
  /** Marks it closed. */
  docClose(doctype: string, docname: string | number): Promise<void> {
    return this.#unwant(`open\0${doctype}\0${docname}`);
  }
  /** Subscribes to a background task's progress (`task_progress:<id>`). */
  taskSubscribe(taskId: string): Promise<void> {
    return this.#want(`task\0${taskId}`, ['task_subscribe', taskId], ['task_unsubscribe', taskId]);
  }
  /** Stops a task's progress. */
  taskUnsubscribe(taskId: string): Promise<void> {
    return this.#unwant(`task\0${taskId}`);
  }

  /** Called after a reconnect that lost events: refetch what the page shows. */
  onResync(handler: (info: ResyncInfo) => void): () => void {
    this.#resync.add(handler);
    return () => this.#resync.delete(handler);
  }

  /** Disconnects for good. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.socket.disconnect();
    this.#status.set('offline');
    for (const wanted of this.#wanted.values())
      wanted.settle?.reject(new RealtimeError('HERALD_CLIENT_CLOSED', 'the client was closed'));
  }

  #want(
    key: Key,
    subscribe: Wanted['subscribe'],
    unsubscribe: Wanted['unsubscribe'],
  ): Promise<void> {
    const existing = this.#wanted.get(key);
    if (existing) return existing.done;
    let settle!: Wanted['settle'];
    const done = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // A refusal is for whoever awaits; nobody awaiting must not make it an unhandled rejection.
    done.catch(() => undefined);
    const wanted: Wanted = { subscribe, unsubscribe, done, settle };
    this.#wanted.set(key, wanted);
    if (this.socket.connected) this.#send(key, wanted);
    else
      this.#queue.push({
        want: key,
        run: () => this.#wanted.get(key) === wanted && this.#send(key, wanted),
      });
    return done;
  }

  async #unwant(key: Key): Promise<void> {
    const wanted = this.#wanted.get(key);
    if (!wanted) return;
    this.#wanted.delete(key);
    wanted.settle?.reject(
      new RealtimeError('HERALD_CLIENT_CANCELLED', 'unsubscribed before the server answered'),
    );
    await new Promise<void>((resolve) =>
      this.#whenConnected(() =>
        this.#request(wanted.unsubscribe).then(
          () => resolve(),
          () => resolve(),
        ),
      ),
    );
  }

  /** Sends a subscribe and settles the first promise of the key with the answer. */
  #send(key: Key, wanted: Wanted): Promise<void> {
    return this.#request(wanted.subscribe).then(
      () => {
        wanted.settle?.resolve();
        wanted.settle = undefined;
      },
      (error: unknown) => {
        // Refused: forget it, so a later call asks again (permissions may change).
        if (error instanceof RealtimeError && this.#wanted.get(key) === wanted)
          this.#wanted.delete(key);
        wanted.settle?.reject(error);
        wanted.settle = undefined;
      },
    );
  }

  async #request([event, ...args]: [string, ...unknown[]]): Promise<void> {
    let reply:
      | { ok?: boolean; error?: { code: string; message: string; hint?: string } }
      | undefined;
    try {
      reply = (await this.socket
        .timeout(this.#ackTimeoutMs)
        .emitWithAck(event, ...args)) as typeof reply;
    } catch {
      // No answer: a server without acknowledgements (upstream) or a lost connection.
      return;
    }
    if (reply && reply.ok === false && reply.error)
      throw new RealtimeError(reply.error.code, reply.error.message, reply.error.hint);
  }

  #whenConnected(run: () => void): void {
    if (this.socket.connected) run();
    else this.#queue.push({ run });
  }

  #onConnect(): void {
    clearTimeout(this.#retryTimer);
    this.#attempt = 0;
    this.lastError = undefined;
    const first = !this.#connectedOnce;
    this.#connectedOnce = true;
    this.recovered = !first && this.socket.recovered;
    const queued = this.#queue.splice(0);
    if (this.recovered) {
      // The server kept the rooms and replayed what was missed: only the calls made meanwhile remain.
      for (const item of queued) item.run();
      this.#status.set('connected');
      return;
    }
    // A fresh session: everything still wanted is asked for once, then the other calls, in order.
    // "connected" is said once the subscriptions are back, so an app refetching then misses nothing.
    const restored = [...this.#wanted].map(([key, wanted]) => this.#send(key, wanted));
    for (const item of queued) if (item.want === undefined) item.run();
    void Promise.allSettled(restored).then(() => {
      if (!this.socket.connected) return;
      this.#status.set('connected');
      if (!first) for (const fn of this.#resync) fn({ reason: 'not-recovered' });
    });
  }

  #scheduleRetry(): void {
    clearTimeout(this.#retryTimer);
    const { initialDelayMs, maxDelayMs, jitter } = this.#retry;
    const base = Math.min(initialDelayMs * 2 ** this.#attempt, maxDelayMs);
    const delay = base * (1 - jitter + Math.random() * jitter * 2);
    this.#attempt += 1;
    this.#retryTimer = setTimeout(
      () => {
        if (!this.#closed && !this.socket.connected) this.socket.connect();
      },
      Math.min(delay, maxDelayMs),
    );
  }
}

/** Creates a client and starts connecting. */
export function createRealtime(options: RealtimeOptions): Realtime {
  return new Realtime(options);
}
