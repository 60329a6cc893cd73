// The load generator: worker threads, each holding a share of the benchmark sockets (wire.ts).
// The main thread only hands out commands and gathers results; each answer says how busy its
// thread was, so a reader can tell whether the generator, not the server, set the pace.
import { Worker } from 'node:worker_threads';
import type { SlowRead } from './wire.js';

type Emit = [index: number, event: string, args: unknown[]];
type Steps = [index: number, steps: [event: string, args: unknown[]][]];
type Viewing = [index: number, doctype: string, docname: string, user: string];
/** An emit due `dueMs` after the command arrives. */
type Paced = [index: number, event: string, args: unknown[], dueMs: number];

/** An event a recording socket received: its global index, the event's data, when (epoch ms). */
export type Arrival = [index: number, data: unknown, at: number];

/** What a worker can be asked to do; socket indexes are the worker's own. */
export type Command =
  | { cmd: 'open'; sids: string[]; concurrency: number; slowRead?: SlowRead | undefined }
  | { cmd: 'close' }
  | { cmd: 'emit'; items: Emit[]; ack: boolean; concurrency: number }
  | { cmd: 'sequence'; items: Steps[]; ack: boolean; concurrency: number }
  | { cmd: 'pipeline'; items: Steps[]; ack: boolean; concurrency: number }
  | { cmd: 'received' }
  | { cmd: 'listen'; event: string; every: number }
  | { cmd: 'viewers'; items: Viewing[]; perSecond: number }
  | { cmd: 'latencies' }
  | { cmd: 'record'; indexes: number[]; event: string }
  | { cmd: 'arrivals' }
  | { cmd: 'paced'; items: Paced[] }
  | { cmd: 'mark' }
  | { cmd: 'busy' };

interface Answer {
  id: number;
  result?: unknown;
  error?: string;
}

const BOOT = new URL('./loadgen-boot.mjs', import.meta.url);
const ENTRY = new URL('./loadgen-worker.ts', import.meta.url).href;

/** Sockets of one site on one server, spread over `threads` worker threads (socket i on i % n). */
export class LoadGenerator {
  #workers: Worker[];
  #counts: number[];
  #nextId = 1;
  #waiting = new Map<number, (answer: Answer) => void>();

  constructor(port: number, site: string, threads: number) {
    this.#workers = Array.from({ length: threads }, () => {
      const worker = new Worker(BOOT, { workerData: { entry: ENTRY, port, site } });
      worker.on('message', (answer: Answer) => {
        this.#waiting.get(answer.id)?.(answer);
        this.#waiting.delete(answer.id);
      });
      worker.on('error', (error) => {
        for (const done of this.#waiting.values()) done({ id: 0, error: String(error) });
        this.#waiting.clear();
      });
      return worker;
    });
    this.#counts = this.#workers.map(() => 0);
  }

  get size(): number {
    return this.#counts.reduce((a, b) => a + b, 0);
  }

  #ask(worker: number, command: Command): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, (answer) => {
        if (answer.error !== undefined) return reject(new Error(`load generator: ${answer.error}`));
        resolve(answer.result);
      });
      this.#workers[worker]!.postMessage({ ...command, id });
    });
  }

  /** Sends each worker its part of `items` (by the global socket index in front of each). */
  #split<T extends [number, ...unknown[]]>(items: readonly T[]): T[][] {
    const n = this.#workers.length;
    const parts: T[][] = this.#workers.map(() => []);
    for (const item of items) {
      const [index, ...rest] = item;
      parts[index % n]!.push([Math.floor(index / n), ...rest] as T);
    }
    return parts;
  }

  #all(make: (worker: number) => Command | undefined): Promise<unknown[]> {
    return Promise.all(
      this.#workers.map((_, w) => {
        const command = make(w);
        return command ? this.#ask(w, command) : undefined;
      }),
    );
  }

  /**
   * Connects one socket per sid (indexes follow the sockets already open); `concurrency` in all.
   * With `slowRead`, the sockets read slowly (wire.ts).
   */
  async open(sids: readonly string[], concurrency = 200, slowRead?: SlowRead): Promise<void> {
    const n = this.#workers.length;
    const parts: string[][] = this.#workers.map(() => []);
    const base = this.size;
    sids.forEach((sid, j) => {
      parts[(base + j) % n]!.push(sid);
    });
    await this.#all((w) =>
      parts[w]!.length
        ? { cmd: 'open', sids: parts[w]!, concurrency: Math.ceil(concurrency / n), slowRead }
        : undefined,
    );
    parts.forEach((part, w) => {
      this.#counts[w]! += part.length;
    });
  }

  /** Emits each item's event; with `ack`, resolves when every one is acknowledged. */
  async emit(items: readonly Emit[], ack: boolean, concurrency = 500): Promise<void> {
    const parts = this.#split(items);
    const per = Math.ceil(concurrency / this.#workers.length);
    await this.#all((w) => ({ cmd: 'emit', items: parts[w]!, ack, concurrency: per }));
  }

  /** Runs each item's events in order on its socket (each acknowledged before the next with `ack`). */
  async sequence(items: readonly Steps[], ack: boolean, concurrency = 200): Promise<void> {
    const parts = this.#split(items);
    const per = Math.ceil(concurrency / this.#workers.length);
    await this.#all((w) => ({ cmd: 'sequence', items: parts[w]!, ack, concurrency: per }));
  }

  /**
   * Sends each item's events back to back on its socket; with `ack`, only the last asks for an
   * answer, and this resolves when every item's last event is answered.
   */
  async pipeline(items: readonly Steps[], ack: boolean, concurrency = 200): Promise<void> {
    const parts = this.#split(items);
    const per = Math.ceil(concurrency / this.#workers.length);
    await this.#all((w) => ({ cmd: 'pipeline', items: parts[w]!, ack, concurrency: per }));
  }

  /** Events received by all sockets so far. */
  async received(): Promise<number> {
    const counts = (await this.#all(() => ({ cmd: 'received' }))) as number[];
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * From now on, records the latency of every `event` (its data carries `sent`, epoch ms) at every
   * `every`-th socket of each thread; resolves to how many sockets record.
   */
  async listen(event: string, every = 1): Promise<number> {
    const counts = (await this.#all(() => ({ cmd: 'listen', event, every }))) as number[];
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Opens documents at a fixed overall rate; each latency runs until the opener is told it views. */
  async viewers(items: readonly Viewing[], perSecond: number): Promise<void> {
    const parts = this.#split(items);
    const per = perSecond / this.#workers.length;
    await this.#all((w) => ({ cmd: 'viewers', items: parts[w]!, perSecond: per }));
  }

  /** The latencies recorded since the last call, in ms. */
  async latencies(): Promise<number[]> {
    return ((await this.#all(() => ({ cmd: 'latencies' }))) as number[][]).flat();
  }

  /**
   * From now on, the sockets of `indexes` keep every `event` they receive, with the time (see
   * `arrivals`), in place of any latency they recorded.
   */
  async record(indexes: readonly number[], event: string): Promise<void> {
    const parts = this.#split(indexes.map((index) => [index] as [number]));
    await this.#all((w) =>
      parts[w]!.length ? { cmd: 'record', indexes: parts[w]!.map(([i]) => i), event } : undefined,
    );
  }

  /** What the recording sockets received since the last call (global socket indexes). */
  async arrivals(): Promise<Arrival[]> {
    const n = this.#workers.length;
    const parts = (await this.#all(() => ({ cmd: 'arrivals' }))) as Arrival[][];
    return parts.flatMap((part, w) =>
      part.map(([index, data, at]) => [index * n + w, data, at] as Arrival),
    );
  }

  /**
   * Emits each item's event (no acknowledgement) at a fixed overall rate, in the order given;
   * resolves once all are sent, to when each was sent (epoch ms), in the order of `items`.
   */
  async paced(items: readonly Emit[], perSecond: number): Promise<number[]> {
    const n = this.#workers.length;
    const parts: Paced[][] = this.#workers.map(() => []);
    const slots: number[][] = this.#workers.map(() => []);
    items.forEach(([index, event, args], k) => {
      // Each worker sends its items at their places in the overall schedule.
      parts[index % n]!.push([Math.floor(index / n), event, args, (k * 1000) / perSecond]);
      slots[index % n]!.push(k);
    });
    const sent = (await this.#all((w) =>
      parts[w]!.length ? { cmd: 'paced', items: parts[w]! } : undefined,
    )) as (number[] | undefined)[];
    const times = new Array<number>(items.length);
    sent.forEach((part, w) => {
      part?.forEach((at, j) => {
        times[slots[w]![j]!] = at;
      });
    });
    return times;
  }

  /** Starts a timed window (see `busy`). */
  async mark(): Promise<void> {
    await this.#all(() => ({ cmd: 'mark' }));
  }

  /** The share of the window since `mark` the busiest thread spent working (1: saturated). */
  async busy(): Promise<number> {
    return Math.max(...((await this.#all(() => ({ cmd: 'busy' }))) as number[]));
  }

  /** Closes every socket. */
  async close(): Promise<void> {
    await this.#all(() => ({ cmd: 'close' }));
    this.#counts = this.#workers.map(() => 0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
