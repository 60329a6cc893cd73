/** Counts the writes a server-side socket's TCP connection makes from now on. */
export function countWrites(raw: { _write: unknown; _writev: unknown }): () => number {
  let writes = 0;
  for (const method of ['_write', '_writev'] as const) {
    const original = raw[method] as (...args: unknown[]) => unknown;
    raw[method] = function (this: unknown, ...args: unknown[]) {
      writes += 1;
      return original.apply(this, args);
    };
  }
  return () => writes;
}
