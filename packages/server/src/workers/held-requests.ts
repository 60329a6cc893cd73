import cluster, { type Worker } from 'node:cluster';

/** sticky's messages about one held connection, by `connectionId` (its primary's IPC protocol). */
const HELD = 'sticky:http-chunk-start';
const ANSWERED = new Set(['sticky:http-response-end', 'sticky:http-response-destroy']);
const ABORTED = 'sticky:abort';

function stickyMessage(message: unknown): { type: string; connectionId: string } | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, connectionId } = message as { type?: unknown; connectionId?: unknown };
  return typeof type === 'string' && typeof connectionId === 'string'
    ? { type, connectionId }
    : undefined;
}

/**
 * The connections @socket.io/sticky's primary holds for each worker, ended when that worker dies.
 * A request with a body (a polling client's POST) stays on the primary, its bytes fed to the worker
 * over IPC, until the worker says it has answered (`sticky:http-response-end` or `-destroy`). A
 * worker that is killed says nothing, and sticky forgets only its sessions: the connection stayed
 * open and its client waiting, with no timeout, for ever. The primary notes which worker each held
 * connection went to, from the messages sticky sends that worker, and when the worker exits it
 * ends them as the worker would have, with sticky's own `sticky:http-response-destroy`.
 */
export class HeldRequests {
  readonly #byWorker = new Map<number, Set<string>>();

  /** Notes what sticky sends this worker (its `send`, wrapped on this one object). */
  track(worker: Worker): void {
    const held = new Set<string>();
    this.#byWorker.set(worker.id, held);
    const send = worker.send.bind(worker) as (...args: unknown[]) => boolean;
    worker.send = ((message: unknown, ...rest: unknown[]) => {
      const sticky = stickyMessage(message);
      if (sticky?.type === HELD) held.add(sticky.connectionId);
      else if (sticky?.type === ABORTED) held.delete(sticky.connectionId);
      return send(message, ...rest);
    }) as Worker['send'];
  }

  /** Takes a worker's message: a held connection it answered is no longer held. */
  onMessage(worker: Worker, message: unknown): void {
    const sticky = stickyMessage(message);
    if (sticky && ANSWERED.has(sticky.type))
      this.#byWorker.get(worker.id)?.delete(sticky.connectionId);
  }

  /** The worker has exited: the connections held for it are ended; returns how many. */
  release(worker: Worker): number {
    const held = this.#byWorker.get(worker.id);
    this.#byWorker.delete(worker.id);
    if (!held) return 0;
    for (const connectionId of held) {
      // Handled by sticky's own listener, as if the worker had sent it.
      cluster.emit('message', worker, { type: 'sticky:http-response-destroy', connectionId });
    }
    return held.size;
  }
}
