import cluster from 'node:cluster';
import { setupWorker } from '@socket.io/sticky';
import type { Server } from 'socket.io';
import { pathOf } from '../http/respond.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { HeraldIo } from '../session.js';
import type { HttpRoute } from '../wiring/http-routes.js';
import { heraldType, type PrimaryMessage, type WorkerMessage } from './messages.js';

/** How long a worker's /metrics waits for the primary's answer. */
const GROUP_METRICS_TIMEOUT_MS = 8_000;

function send(message: WorkerMessage): void {
  process.send?.(message, undefined, undefined, () => {
    // The primary is gone: the worker stops on the channel's disconnect (workers/worker.ts).
  });
}

/**
 * Tells the primary which worker holds a new Engine.IO session before the handshake is answered.
 * sticky's setupWorker says so (`sticky:connection`) on the engine's `connection` event, which
 * comes after the answer has been written: the client's next request (a new connection, each
 * answer says `Connection: close`) could reach the primary first and be handed round robin to
 * another worker, which answers 400 "Session ID unknown" and the client reconnects (seen in the
 * workers' logs on a busy machine, as two 400s for one new session). The same message, sent and written as the
 * id is made (engine.io's documented `generateId` hook), closes that gap; setupWorker's own later
 * one changes nothing.
 */
function announceSessionsEarly(io: HeraldIo): void {
  const engine = io.engine;
  const generateId = engine.generateId.bind(engine);
  engine.generateId = async (req) => {
    const id = await generateId(req);
    await new Promise<void>((resolve) => {
      if (!process.connected) resolve();
      else
        process.send?.({ type: 'sticky:connection', data: id }, undefined, undefined, () =>
          resolve(),
        );
    });
    return id;
  };
}

/**
 * Makes a started Herald a worker of `herald serve --workers` instead of a server that listens:
 * its connections come from the primary (@socket.io/sticky's setupWorker: every response says
 * `Connection: close`, so a kept-alive connection never carries another session's request), the
 * primary may ask for its registry, and its `/metrics` answers the whole group's (the primary
 * gathers every worker's registry).
 */
export function attachToPrimary(parts: {
  io: HeraldIo;
  routes: HttpRoute[];
  metrics: Metrics;
  logger: Logger;
}): void {
  const { io, routes, metrics, logger } = parts;
  if (!cluster.isWorker) {
    throw new Error('listen: "sticky-worker" runs only in a worker of herald serve --workers');
  }
  setupWorker(io as unknown as Server);
  announceSessionsEarly(io);
  const pending = new Map<number, (answer: { text?: string; error?: string }) => void>();
  let next = 0;
  const onMessage = (message: unknown) => {
    const type = heraldType(message);
    if (type === 'herald:metrics') {
      const { id } = message as Extract<PrimaryMessage, { type: 'herald:metrics' }>;
      metrics.registry.getMetricsAsJSON().then(
        (json) => send({ type: 'herald:metrics-answer', id, metrics: json }),
        (error: Error) => send({ type: 'herald:metrics-answer', id, error: error.message }),
      );
    } else if (type === 'herald:group-metrics-answer') {
      const answer = message as Extract<PrimaryMessage, { type: 'herald:group-metrics-answer' }>;
      pending.get(answer.id)?.(answer);
    }
  };
  process.on('message', onMessage);

  // In front of the worker's own /metrics route: a scrape through the shared port sees the group.
  routes.unshift((req, res) => {
    if (pathOf(req) !== '/metrics') return false;
    const id = next++;
    const timer = setTimeout(
      () =>
        pending.get(id)?.({
          error: `no answer from the primary within ${GROUP_METRICS_TIMEOUT_MS} ms`,
        }),
      GROUP_METRICS_TIMEOUT_MS,
    );
    pending.set(id, (answer) => {
      pending.delete(id);
      clearTimeout(timer);
      if (answer.text !== undefined) {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(answer.text);
      } else {
        logger.warn({ reason: answer.error }, "cannot collect the workers' metrics");
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`cannot collect metrics: ${answer.error}`);
      }
    });
    send({ type: 'herald:group-metrics', id });
    return true;
  });
}
