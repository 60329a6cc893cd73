// The layer over Socket.IO, Engine.IO and `ws` that Herald's speed and memory work needs, applied
// to one server. Each patch checks at start the shapes it relies on (internals.ts); one that is not
// there is logged once, naming the patch and what is missing, and left off: the server works as
// Socket.IO alone would. Each patch counts what it does (`counts`), for
// test/socketio-internals.test.ts, which is what to run after a version change (ARCHITECTURE.md,
// "Upgrading Socket.IO").
import type { Server } from 'socket.io';
import type * as parser from 'socket.io-parser';
import type { Logger } from '../logger.js';
import { leanParser, trimConnectionMemory } from './connection-memory.js';
import { attachDirectRequests, DirectRequests, enableDirectRequests } from './direct-requests.js';
import { tolerateDuplicateConnects } from './duplicate-connect.js';
import { guardedParser, type ParserModule } from './encode-guard.js';
import { skipIdleDispatch } from './event-dispatch.js';
import { type EngineSocket, type Missing, missingFunctions } from './internals.js';
import { type LayerCounts, linkLayer, noCounts, type ServerLayer } from './link.js';
import { limitOutgoing, type OutgoingLimit } from './outgoing-limit.js';
import { TurnEnd } from './turn-end.js';
import { coalesceConnection, coalescingMissing, WriteCoalescing } from './write-coalescing.js';

/** What a server's layer is asked to do. */
export interface LayerOptions {
  logger: Logger;
  /** --write-coalescing */
  writeCoalescing: boolean;
  /** --direct-requests */
  directRequests: boolean;
  /** --max-outgoing-bytes */
  maxOutgoingBytes: number;
  /** A connection was closed for reading slower than it is sent to. */
  onOutgoingDrop(engine: { id?: string; remoteAddress?: string }, waiting: number): void;
  /** A packet could not be encoded: it was sent to nobody. */
  onEncodeFailure(error: unknown, packet: parser.Packet): void;
}

/**
 * One server's layer: made before the Socket.IO server (its `parser` is an option of the server),
 * then applied to it. Its state is this server's alone: two servers in one process share nothing
 * but the patched prototypes, whose replacements look up the server they are working for.
 */
export class SocketIoLayer implements ServerLayer {
  readonly counts: LayerCounts = noCounts();
  readonly duplicateConnects = true;
  /** The end of each event-loop turn: batched emits, then write coalescing's releases. */
  readonly turnEnd = new TurnEnd();
  /** Socket.IO's parser with the lean decoder and the encoder that never throws. */
  readonly parser: ParserModule;
  /** The patches left off, and what each found missing. */
  readonly missing = new Map<string, Missing>();
  /** Write coalescing, when on and applied. */
  coalescing: WriteCoalescing | undefined;
  /** Direct requests, when on and applied. */
  direct: DirectRequests | undefined;
  /** The bound on each connection's waiting bytes, when applied. */
  outgoing: OutgoingLimit | undefined;
  readonly #options: LayerOptions;

  constructor(options: LayerOptions) {
    this.#options = options;
    const lean = leanParser(this.counts);
    this.report('lean decoder', lean.missing);
    const encoder = missingFunctions(lean.Encoder.prototype, 'socket.io-parser Encoder', [
      'encode',
    ]);
    this.report('encode guard', encoder);
    this.parser =
      encoder.length > 0
        ? lean
        : guardedParser(lean, (error, packet) => {
            this.counts.encodeFailures += 1;
            options.onEncodeFailure(error, packet);
          });
  }

  /** Logs, once per patch, that a patch is off and what it found missing (nothing when none). */
  report(patch: string, missing: Missing): void {
    if (missing.length === 0 || this.missing.has(patch)) return;
    this.missing.set(patch, missing);
    this.#options.logger.warn(
      { patch, missing },
      `Socket.IO is not laid out as this Herald expects: ${patch} is off (missing: ${missing.join(', ')}); the server works without it. Install the socket.io, engine.io and ws versions pinned in Herald's package.json (ARCHITECTURE.md, "Upgrading Socket.IO")`,
    );
  }

  /** Applies the layer to `io` (made with `parser: this.parser`), before it takes connections. */
  apply(io: Server): this {
    const options = this.#options;
    linkLayer(io, this);
    this.report('dispatch skip', skipIdleDispatch());
    this.report('duplicate CONNECT', tolerateDuplicateConnects());
    for (const [trim, missing] of Object.entries(
      trimConnectionMemory(io, this.counts, (trim, missing) => this.report(trim, missing)),
    ))
      this.report(trim, missing);
    const outgoing = limitOutgoing(io.engine, options.maxOutgoingBytes, options.onOutgoingDrop);
    if (Array.isArray(outgoing)) this.report('outgoing limit', outgoing);
    else this.outgoing = outgoing;
    if (options.writeCoalescing) this.#coalesce(io);
    if (options.directRequests) {
      const direct = enableDirectRequests(io, (missing) => {
        this.report('direct requests', missing);
        if (missing.length > 0) this.direct = undefined;
      });
      if (direct instanceof DirectRequests) this.direct = direct;
      else this.report('direct requests', direct);
    }
    return this;
  }

  #coalesce(io: Server): void {
    const coalescing = new WriteCoalescing(this.turnEnd);
    this.coalescing = coalescing;
    let checked = false;
    io.engine.on('connection', (engine: EngineSocket) => {
      // Its shapes are a connection's: checked on the first websocket.
      if (!checked && engine.transport.name === 'websocket') {
        checked = true;
        const missing = coalescingMissing(engine);
        this.report('write coalescing', missing);
        if (missing.length > 0) this.coalescing = undefined;
      }
      if (this.coalescing !== undefined) coalesceConnection(coalescing, engine);
    });
  }

  /** A socket connected to a namespace of the server (its connection's direct requests). */
  attach(socket: { conn: object; client: object }): void {
    if (this.direct) attachDirectRequests(socket);
  }
}
