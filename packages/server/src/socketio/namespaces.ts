import type { IoParentNamespace, IoServer } from './internals.js';

/**
 * A server's namespaces by name: Socket.IO's own map (`_nsps`; it has no public way to list them).
 * Read only: remove one with `forgetNamespace`.
 */
export function namespacesOf<N>(io: object): ReadonlyMap<string, N> {
  return (io as IoServer)._nsps as unknown as ReadonlyMap<string, N>;
}

/**
 * Removes a namespace from its server and from the parent namespace that made it, as Socket.IO's
 * own cleanup (`cleanupEmptyChildNamespaces`) does, which removes one the moment it empties.
 */
export function forgetNamespace(io: object, parent: unknown, name: string): void {
  const nsp = (io as IoServer)._nsps.get(name);
  (io as IoServer)._nsps.delete(name);
  (parent as IoParentNamespace).children?.delete(nsp);
}
