// A Socket.IO client for load, on a bare TCP socket: the websocket handshake and frames are
// written by hand (RFC 6455), and Engine.IO v4 / Socket.IO v5 packets read without decoding
// anything a benchmark does not look at. A socket costs a TCP socket and a few fields, so one
// generator thread drives thousands of them.
import { type Socket, connect as tcpConnect } from 'node:net';

const KEY = 'aGVyYWxkLWJlbmNoLWtleQ=='; // any 16 bytes, base64: the answer is not checked
const SPACE = 0x20;
const CHAR_4 = 0x34; // Engine.IO "message"
const CHAR_0 = 0x30;
const OPEN_BRACKET = 0x5b;

/** A text frame from the client: masked, with a zero key, so the payload is written as is. */
function frame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 6 : length < 65_536 ? 8 : 14;
  const out = Buffer.allocUnsafe(header + length);
  out[0] = 0x81;
  if (length < 126) {
    out[1] = 0x80 | length;
  } else if (length < 65_536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(length), 2);
  }
  out.writeUInt32BE(0, header - 4);
  out.write(text, header, 'utf8');
  return out;
}

const PONG = frame('3');

/**
 * A socket that reads slowly: `chunkBytes` at a time from its TCP socket, then nothing for
 * `delayMs`, as a client on a slow link or a busy device does. Its receive window fills, so the
 * server's kernel holds what it wrote (and past that, the server itself).
 */
export interface SlowRead {
  chunkBytes: number;
  delayMs: number;
}

/** One benchmark socket of one user on one site. */
export class WireSocket {
  connected = false;
  /** Events received (Socket.IO EVENT packets). */
  received = 0;
  /** Called for every event when set (the payload is parsed only then). */
  onEvent: ((event: string, data: unknown, receivedAt: number) => void) | undefined;
  #tcp: Socket | undefined;
  #pending: Buffer | undefined;
  #upgraded = false;
  #acks = new Map<number, () => void>();
  #nextAck = 1;
  #settle: ((error?: Error) => void) | undefined;
  readonly #prefix: string;

  constructor(
    readonly port: number,
    readonly site: string,
    readonly sid: string,
    readonly slowRead?: SlowRead,
  ) {
    this.#prefix = `/${site},`;
  }

  /** Opens the connection and joins the site namespace; rejects on a connect error or a close. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#settle = (error) => {
        this.#settle = undefined;
        if (error) reject(error);
        else resolve();
      };
      const slow = this.slowRead;
      const tcp = slow
        ? tcpConnect({
            port: this.port,
            host: '127.0.0.1',
            // Reads into one small buffer; each read pauses the socket for the delay. The buffer
            // is reused, so what a frame keeps of it is copied.
            onread: {
              buffer: Buffer.allocUnsafe(slow.chunkBytes),
              callback: (bytes, buffer) => {
                this.#onData(Buffer.from(buffer.subarray(0, bytes)));
                setTimeout(() => tcp.resume(), slow.delayMs);
                return false;
              },
            },
          })
        : tcpConnect(this.port, '127.0.0.1');
      this.#tcp = tcp;
      tcp.setNoDelay(true);
      tcp.on('connect', () => {
        tcp.write(
          'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n' +
            `Host: ${this.site}:${this.port}\r\n` +
            `Origin: http://${this.site}:${this.port}\r\n` +
            `Cookie: sid=${this.sid}\r\n` +
            'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
            `Sec-WebSocket-Key: ${KEY}\r\n\r\n`,
        );
      });
      if (!slow) tcp.on('data', (chunk: Buffer) => this.#onData(chunk));
      tcp.on('error', (error) => this.#settle?.(error));
      tcp.on('close', () => {
        this.connected = false;
        this.#settle?.(new Error('connection closed'));
      });
    });
  }

  #onData(chunk: Buffer): void {
    let data = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = undefined;
    if (!this.#upgraded) {
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) {
        this.#pending = data;
        return;
      }
      // "HTTP/1.1 101 Switching Protocols"
      if (data[9] !== 0x31 || data[10] !== CHAR_0 || data[11] !== 0x31 || data[12] !== SPACE) {
        const status = data.subarray(0, data.indexOf('\r\n')).toString();
        this.#settle?.(new Error(`websocket upgrade refused: ${status}`));
        this.#tcp?.destroy();
        return;
      }
      this.#upgraded = true;
      data = data.subarray(end + 4);
    }
    let offset = 0;
    while (data.length - offset >= 2) {
      const opcode = data[offset]! & 0x0f;
      let length = data[offset + 1]! & 0x7f;
      let start = offset + 2;
      if (length === 126) {
        if (data.length - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        start = offset + 4;
      } else if (length === 127) {
        if (data.length - offset < 10) break;
        length = Number(data.readBigUInt64BE(offset + 2));
        start = offset + 10;
      }
      if (data.length < start + length) break;
      const payload = data.subarray(start, start + length);
      offset = start + length;
      if (opcode === 0x1) this.#onText(payload);
      else if (opcode === 0x9) this.#tcp?.write(Buffer.from([0x8a, 0x80, 0, 0, 0, 0]));
      else if (opcode === 0x8) this.#tcp?.end();
    }
    if (offset < data.length) this.#pending = data.subarray(offset);
  }

  /** One Engine.IO packet. */
  #onText(payload: Buffer): void {
    const kind = payload[0];
    if (kind === 0x32 /* ping */) {
      this.#tcp?.write(PONG);
      return;
    }
    if (kind === CHAR_0 /* open */) {
      this.#tcp?.write(frame(`40${this.#prefix}`));
      return;
    }
    if (kind !== CHAR_4) return;
    const type = payload[1];
    const body = 2 + this.#prefix.length;
    if (type === 0x32 /* EVENT */) {
      const at = performance.timeOrigin + performance.now();
      this.received += 1;
      if (this.onEvent) {
        const args = JSON.parse(payload.subarray(body).toString()) as [string, unknown];
        this.onEvent(args[0], args[1], at);
      }
    } else if (type === 0x33 /* ACK */) {
      let id = 0;
      for (let i = body; i < payload.length && payload[i] !== OPEN_BRACKET; i += 1)
        id = id * 10 + (payload[i]! - CHAR_0);
      const done = this.#acks.get(id);
      this.#acks.delete(id);
      done?.();
    } else if (type === CHAR_0 /* CONNECT */) {
      this.connected = true;
      this.#settle?.();
    } else if (type === CHAR_4 /* CONNECT_ERROR */) {
      this.#settle?.(new Error(`connect error ${payload.subarray(body).toString()}`));
    }
  }

  /** Emits an event; with `ack`, resolves on the server's acknowledgement. */
  emit(event: string, args: unknown[], ack = false): Promise<void> {
    const json = JSON.stringify([event, ...args]);
    if (!ack) {
      this.#tcp?.write(frame(`42${this.#prefix}${json}`));
      return Promise.resolve();
    }
    const id = this.#nextAck++;
    return new Promise((resolve) => {
      this.#acks.set(id, resolve);
      this.#tcp?.write(frame(`42${this.#prefix}${id}${json}`));
    });
  }

  close(): void {
    this.#tcp?.destroy();
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
