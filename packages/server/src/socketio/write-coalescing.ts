import type { EngineSocket, EngineTransport, Missing, RawSocket } from './internals.js';
import type { TurnEnd } from './turn-end.js';

/** A websocket transport as write coalescing marks it. */
type Transport = EngineTransport & {
  [HELD]?: boolean;
  [ENGINE]?: EngineSocket;
  [COALESCING]?: WriteCoalescing;
};

/** Sent to and not yet written: its TCP socket is corked, and it is in its server's `held`. */
const HELD = Symbol('herald.held');
const ENGINE = Symbol('herald.engine');
const COALESCING = Symbol('herald.coalescing');

/**
 * How many sockets' frames are held before they are written, if the turn has not ended first.
 * Each write to a socket whose reader sleeps pays for waking it; writes that leave back to back
 * find it awake. Answers to requests come a request's work apart (tens of µs), so held in groups
 * they cost a third less CPU each (BENCHMARKS.md); a broadcast's frames come about a µs apart, so
 * a group holds the first socket's frame back by some 16 µs.
 */
const GROUP = 16;

/** What a server's write coalescing did, since start. */
export interface CoalescingCounts {
  /** Times a websocket's TCP socket was corked to hold its frames. */
  held: number;
  /** Groups of GROUP sockets written before the turn ended. */
  groups: number;
  /** Held sockets whose Engine.IO buffer was handed over at release (a write was pending). */
  handedOver: number;
}

const rawOf = (transport: Transport): RawSocket | undefined => transport.socket?._socket;

/**
 * Writes what a socket was sent since it was last written. Engine.IO hands over one batch and then
 * waits for its write (the transport is not `writable` until `ws` calls back): what came after it
 * is still in Engine.IO's buffer, and is handed to `ws` now, in the corked socket, so the uncork
 * writes it all at once. (Engine.IO's callbacks stay in step: every batch it hands over still ends
 * in one write callback.)
 */
function release(transport: Transport, counts: CoalescingCounts): void {
  const raw = rawOf(transport);
  const engine = transport[ENGINE];
  const open = raw !== undefined && !raw.destroyed;
  if (
    open &&
    engine &&
    engine.transport === transport &&
    engine.writeBuffer.length > 0 &&
    !transport.writable
  ) {
    transport.writable = true;
    counts.handedOver += 1;
    // Its send comes back here still held: the batch goes into the corked socket.
    engine.flush();
  }
  transport[HELD] = false;
  if (open) raw.uncork();
}

/**
 * Write coalescing of one server: each websocket's frames held in its corked TCP socket and written
 * together, at the end of the event-loop turn (after the turn's batched emits), or sooner, as soon
 * as GROUP sockets hold frames. A burst to one socket is one write; the answers to many sockets'
 * requests leave back to back. The frames and their order are unchanged.
 *
 * When it engages, measured with slow readers (1,000 socket.io-client sockets in one process on 2
 * cores, 100 events published back to back to `all`; counts of the layer and of the TCP writes):
 * in every run it did, 2 writes per socket for each read of the events channel the burst came in
 * (1 or 2 reads: 2,000 to 4,000 writes for 100,000 deliveries). A socket's first frame of a read
 * leaves when its group of 16 fills; Engine.IO then keeps the transport not `writable` until
 * `ws`'s write callback, a tick later, so every further frame of that read waits in Engine.IO's
 * `writeBuffer` and leaves with the others in one corked write from Engine.IO's drain (or is
 * handed over by `release` when the socket is still held at the end of the turn). No write was
 * ever partial and no socket buffer full (the kernel took every write whole, with 2 KB events and
 * readers that stopped for 300 ms too). It merges nothing only when each event comes in a turn
 * of its own (events 8 ms apart: a write per delivery, nothing left to merge but the group). The
 * server's CPU per delivery varied between runs with the same writes (2.7 to 5.8 µs; 4.6 to 6.7 µs
 * with one more busy process on the machine): the spread between runs is the machine's, not
 * coalescing turning off. Holding a socket that a group already wrote in the turn until the
 * turn's end halved the writes of bursts read in several parts and did not change the CPU per
 * delivery: not kept.
 */
export class WriteCoalescing {
  readonly counts: CoalescingCounts = { held: 0, groups: 0, handedOver: 0 };
  /** The transports sent to and not yet written. */
  #held: Transport[] = [];
  #scheduled = false;
  readonly #turnEnd: TurnEnd;

  constructor(turnEnd: TurnEnd) {
    this.#turnEnd = turnEnd;
  }

  readonly #atEndOfTurn = (): void => {
    this.#scheduled = false;
    this.#releaseAll();
  };

  #releaseAll(): void {
    const these = this.#held;
    this.#held = [];
    for (const transport of these) release(transport, this.counts);
  }

  /** Holds a transport's frames (corks its TCP socket) until the group fills or the turn ends. */
  hold(transport: Transport): void {
    const raw = rawOf(transport);
    if (!raw || transport[HELD] || raw.destroyed) return;
    transport[HELD] = true;
    this.counts.held += 1;
    raw.cork();
    this.#held.push(transport);
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#turnEnd.at('flush', this.#atEndOfTurn);
    }
  }

  /** Writes the held group once it is full. */
  groupFull(): void {
    if (this.#held.length < GROUP) return;
    this.counts.groups += 1;
    this.#releaseAll();
  }

  /** Coalesces the writes of a websocket transport of `engine` (upgraded ones included). */
  coalesce(transport: Transport, engine: EngineSocket): void {
    if (transport.name !== 'websocket' || transport.send === coalescedSend) return;
    if (typeof rawOf(transport)?.cork !== 'function') return;
    transport[ENGINE] = engine;
    transport[COALESCING] = this;
    transport.send = coalescedSend;
  }
}

/** The websocket transport's `send`: one function for every connection (a flag, not closures). */
function coalescedSend(this: Transport, packets: unknown[]): void {
  const coalescing = this[COALESCING]!;
  coalescing.hold(this);
  (Object.getPrototypeOf(this) as Transport).send.call(this, packets);
  coalescing.groupFull();
}

function onUpgrade(this: EngineSocket, transport: EngineTransport): void {
  coalescingOf(this)?.coalesce(transport, this);
}

const ENGINE_COALESCING = Symbol('herald.engineCoalescing');
const coalescingOf = (engine: EngineSocket) =>
  (engine as EngineSocket & { [ENGINE_COALESCING]?: WriteCoalescing })[ENGINE_COALESCING];

/** What write coalescing relies on, checked on a connection's websocket (none: all there). */
export function coalescingMissing(engine: EngineSocket): Missing {
  const transport = engine.transport;
  if (transport.name !== 'websocket') return [];
  const missing: Missing = [];
  if (typeof transport.send !== 'function') missing.push('websocket transport.send()');
  if (typeof transport.writable !== 'boolean') missing.push('websocket transport.writable');
  if (typeof rawOf(transport)?.cork !== 'function') missing.push('ws socket._socket.cork()');
  if (!Array.isArray(engine.writeBuffer)) missing.push('engine socket.writeBuffer');
  if (typeof engine.flush !== 'function') missing.push('engine socket.flush()');
  return missing;
}

/** Applies write coalescing to a new connection (and to its websocket once it upgrades). */
export function coalesceConnection(coalescing: WriteCoalescing, engine: EngineSocket): void {
  (engine as EngineSocket & { [ENGINE_COALESCING]?: WriteCoalescing })[ENGINE_COALESCING] =
    coalescing;
  coalescing.coalesce(engine.transport, engine);
  // Only a connection that did not start on websocket can upgrade to it.
  if (engine.transport.name !== 'websocket') engine.on('upgrade', onUpgrade);
}
