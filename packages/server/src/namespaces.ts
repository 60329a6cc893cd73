import type { Logger } from './logger.js';
import type { HeraldIo, HeraldNamespace } from './session.js';
import { forgetNamespace, namespacesOf } from './socketio/namespaces.js';

/** The namespace of the Socket.IO Admin UI (`--admin-ui`): not a site. */
export const ADMIN_NAMESPACE = '/herald-admin';

/** Whether a namespace is a site's (every one but the root and the admin UI's). */
export const isSiteNamespace = (name: string): boolean => name !== '/' && name !== ADMIN_NAMESPACE;

/** The site namespaces of a server. */
export function siteNamespaces(io: HeraldIo): HeraldNamespace[] {
  return [...namespacesOf<HeraldNamespace>(io).values()].filter((nsp) => isSiteNamespace(nsp.name));
}

/**
 * Site namespaces are created on demand. Socket.IO's own cleanup removes a namespace the moment
 * its last socket leaves, which would also drop the sessions and missed events that connection
 * state recovery keeps in the namespace's adapter, and it never removes a namespace whose
 * connections were all rejected. Herald sweeps instead: a namespace without sockets is removed
 * once it has been empty for the recovery window (at least `minIdleMs`).
 */
export class NamespaceSweeper {
  readonly #io: HeraldIo;
  readonly #parent: unknown;
  readonly #idleMs: number;
  readonly #emptySince = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #log: Logger;

  constructor(
    io: HeraldIo,
    parent: unknown,
    options: { idleMs: number; intervalMs?: number; logger: Logger },
  ) {
    this.#io = io;
    this.#parent = parent;
    this.#idleMs = options.idleMs;
    this.#log = options.logger;
    this.#timer = setInterval(() => this.sweep(), options.intervalMs ?? 10_000);
    this.#timer.unref();
  }

  /** Removes the site namespaces that have been empty for long enough; returns their names. */
  sweep(now = Date.now()): string[] {
    const removed: string[] = [];
    for (const [name, nsp] of namespacesOf<HeraldNamespace>(this.#io)) {
      if (!isSiteNamespace(name)) continue;
      if (nsp.sockets.size > 0) {
        this.#emptySince.delete(name);
        continue;
      }
      const since = this.#emptySince.get(name);
      if (since === undefined) {
        this.#emptySince.set(name, now);
      } else if (now - since >= this.#idleMs) {
        this.#remove(nsp);
        removed.push(name);
      }
    }
    if (removed.length > 0)
      this.#log.debug({ namespaces: removed }, 'removed idle site namespaces');
    return removed;
  }

  #remove(nsp: HeraldNamespace): void {
    this.#emptySince.delete(nsp.name);
    forgetNamespace(this.#io, this.#parent, nsp.name);
    nsp.adapter.close();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
