import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '@herald/testkit';
import { SITE1 } from './helpers/fixtures.js';
import { recorder, startStack } from './helpers/stack.js';

for (const writeCoalescing of [true, false]) {
  describe(`a burst of events with write coalescing ${writeCoalescing ? 'on' : 'off'}`, () => {
    test('every socket gets every event once, in order, over websocket and polling', async () => {
      // Node's polling transport cannot set Host: the site comes from default_site for 127.0.0.1.
      const stack = await startStack({ config: { writeCoalescing, defaultSite: SITE1 } });
      try {
        const sockets = await Promise.all([
          stack.connect({ site: SITE1, sid: 'sid-admin' }),
          stack.connect({ site: SITE1, sid: 'sid-alice' }),
          stack.connect({
            site: SITE1,
            sid: 'sid-bob',
            transports: ['polling'],
            host: null,
            origin: null,
          }),
        ]);
        const records = sockets.map(recorder);
        const total = 500;
        for (let i = 0; i < total; i += 1) {
          void stack.herald.publish({
            event: 'tick',
            message: { i },
            room: 'all',
            namespace: SITE1,
          });
        }
        await waitFor(() => records.every((r) => r.of('tick').length >= total), {
          what: `${total} ticks on every socket`,
          timeoutMs: 20_000,
        });
        for (const r of records) {
          assert.deepEqual(
            r.of('tick').map(([m]) => (m as { i: number }).i),
            Array.from({ length: total }, (_, i) => i),
          );
        }
        for (const s of sockets) s.disconnect();
      } finally {
        await stack.close();
      }
    });
  });
}
