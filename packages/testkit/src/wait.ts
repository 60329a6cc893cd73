/** Waits until `check` returns a truthy value (or stops throwing), polling; fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 25, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves with the arguments of the next `event` on an emitter-like object, or rejects on timeout. */
export function nextEvent<A extends unknown[] = unknown[]>(
  emitter: {
    once(event: string, fn: (...args: A) => void): unknown;
    off(event: string, fn: (...args: A) => void): unknown;
  },
  event: string,
  timeoutMs = 10_000,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const onEvent = (...args: A) => {
      clearTimeout(timer);
      resolve(args);
    };
    const timer = setTimeout(() => {
      emitter.off(event, onEvent);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for event "${event}"`));
    }, timeoutMs);
    emitter.once(event, onEvent);
  });
}

/** A promise that settles after `ms`; only for spacing traffic, never for waiting on a condition. */
export const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
