import cluster, { type Worker } from 'node:cluster';

/**
 * Which workers @socket.io/sticky may hand new connections to. Its primary picks among every entry
 * of `cluster.workers`, which Node fills from fork() on: a worker still starting would be handed
 * connections before it listens for them (they hang until the client gives up), and one that is
 * stopping would take new sessions only to drop them. So a worker is listed there only from its
 * `herald:ready` until the primary starts stopping it; Node removes it itself once it exits.
 * (Nothing else in the primary reads `cluster.workers`: the workers never listen through cluster.)
 */
export const stickyRouting = {
  /** Lets sticky route new connections (and requests of its sessions) to the worker. */
  route(worker: Worker): void {
    if (cluster.workers && !worker.isDead() && worker.isConnected())
      cluster.workers[worker.id] = worker;
  },
  /** No new connection goes to the worker; a request of one of its sessions goes to another. */
  unroute(worker: Worker): void {
    if (cluster.workers?.[worker.id] === worker) delete cluster.workers[worker.id];
  },
};
