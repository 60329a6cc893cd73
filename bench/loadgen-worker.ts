// One load-generator thread: holds its share of the sockets and runs the commands of the main
// thread (loadgen.ts) on them, answering each with its result and how busy the thread was.
import { parentPort, workerData } from 'node:worker_threads';
import type { Command } from './loadgen.js';
import { pool, WireSocket } from './wire.js';

const sockets: WireSocket[] = [];
const latencies: number[] = [];
/** Events kept by the recording sockets: [socket index, data, epoch ms]. */
let arrivals: [number, unknown, number][] = [];
/** Where the last `mark` left this thread's event-loop utilization. */
let mark = performance.eventLoopUtilization();
const { port, site } = workerData as { port: number; site: string };

async function run(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'open': {
      const fresh = command.sids.map((sid) => new WireSocket(port, site, sid, command.slowRead));
      sockets.push(...fresh);
      await pool(fresh, command.concurrency, (s) => s.connect());
      return sockets.length;
    }
    case 'close': {
      for (const s of sockets.splice(0)) s.close();
      return 0;
    }
    case 'emit': {
      const { items, ack, concurrency } = command;
      await pool(items, concurrency, async ([index, event, args]) => {
        await sockets[index]!.emit(event, args, ack);
      });
      return items.length;
    }
    case 'sequence': {
      // Each item's events in order, each acknowledged before the next.
      await pool(command.items, command.concurrency, async ([index, steps]) => {
        for (const [event, args] of steps) await sockets[index]!.emit(event, args, command.ack);
      });
      return command.items.length;
    }
    case 'pipeline': {
      // Each item's events back to back; with `ack`, only the last asks for an answer: Herald
      // answers a socket's requests in the order they came, so that answer means all are done.
      await pool(command.items, command.concurrency, async ([index, steps]) => {
        const socket = sockets[index]!;
        for (let k = 0; k < steps.length; k += 1) {
          const [event, args] = steps[k]!;
          const last = k === steps.length - 1;
          if (last) await socket.emit(event, args, command.ack);
          else void socket.emit(event, args, false);
        }
      });
      return command.items.length;
    }
    case 'received':
      return sockets.reduce((sum, s) => sum + s.received, 0);
    case 'listen': {
      // Publish-to-receive latency of `event`, whose data carries the absolute time it was sent,
      // at every `every`-th socket (the others still read every frame, but parse none).
      let listening = 0;
      for (const [i, s] of sockets.entries()) {
        if (i % command.every !== 0) continue;
        listening += 1;
        s.onEvent = (event, data, at) => {
          if (event === command.event) latencies.push(at - (data as { sent: number }).sent);
        };
      }
      return listening;
    }
    case 'viewers': {
      // At a fixed rate, each item's socket opens a document and waits to be told it views it.
      const { items, perSecond } = command;
      const started = performance.now();
      await Promise.all(
        items.map(async ([index, doctype, docname, user], k) => {
          const due = started + (k * 1000) / perSecond;
          await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
          const socket = sockets[index]!;
          const sent = performance.timeOrigin + performance.now();
          await new Promise<void>((resolve) => {
            socket.onEvent = (event, data, at) => {
              const viewers = data as { docname?: string; users?: string[] };
              if (
                event === 'doc_viewers' &&
                viewers.docname === docname &&
                viewers.users?.includes(user)
              ) {
                latencies.push(at - sent);
                socket.onEvent = undefined;
                resolve();
              }
            };
            void socket.emit('doc_open', [doctype, docname]);
          });
        }),
      );
      return items.length;
    }
    case 'latencies':
      return latencies.splice(0);
    case 'record': {
      for (const index of command.indexes) {
        sockets[index]!.onEvent = (event, data, at) => {
          if (event === command.event) arrivals.push([index, data, at]);
        };
      }
      return command.indexes.length;
    }
    case 'arrivals': {
      const kept = arrivals;
      arrivals = [];
      return kept;
    }
    case 'paced': {
      // Each item at its time from now; resolves to when each was sent.
      const started = performance.now();
      return Promise.all(
        command.items.map(async ([index, event, args, dueMs]) => {
          await new Promise((r) => setTimeout(r, Math.max(0, started + dueMs - performance.now())));
          const sent = performance.timeOrigin + performance.now();
          void sockets[index]!.emit(event, args, false);
          return sent;
        }),
      );
    }
    case 'mark':
      mark = performance.eventLoopUtilization();
      return 0;
    case 'busy':
      return performance.eventLoopUtilization(performance.eventLoopUtilization(), mark).utilization;
  }
}

parentPort!.on('message', (command: Command & { id: number }) => {
  run(command).then(
    (result) => parentPort!.postMessage({ id: command.id, result }),
    (error: Error) => parentPort!.postMessage({ id: command.id, error: error.message }),
  );
});
