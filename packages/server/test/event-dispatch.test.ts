import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '@herald/testkit';
import { SITE1 } from './helpers/fixtures.js';
import { startStack } from './helpers/stack.js';

describe('client events reach listeners and middlewares on the socket itself', () => {
  test('a listener and a middleware on the server-side socket still see the events they ask for; core events are answered', async () => {
    const stack = await startStack();
    try {
      const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
      const socket = stack.herald.io.of(`/${SITE1}`).sockets.get(client.id!)!;
      const heard: unknown[] = [];
      const seenByMiddleware: string[] = [];
      // Before either is added, an event nobody listens to is dropped quietly.
      client.emit('probe', 'unheard');
      assert.deepEqual(await client.timeout(10_000).emitWithAck('doctype_subscribe', 'ToDo'), {
        ok: true,
      });
      socket.on('probe', (value: unknown) => heard.push(value));
      client.emit('probe', 'heard');
      await waitFor(() => heard.length === 1, { what: 'the listener' });
      assert.deepEqual(heard, ['heard']);

      socket.use(([event], next) => {
        seenByMiddleware.push(event as string);
        next();
      });
      client.emit('probe', 'after the middleware');
      assert.deepEqual(await client.timeout(10_000).emitWithAck('doc_subscribe', 'ToDo', 'T-1'), {
        ok: true,
      });
      await waitFor(() => heard.length === 2, { what: 'the listener, behind the middleware' });
      assert.deepEqual(heard, ['heard', 'after the middleware']);
      assert.deepEqual(seenByMiddleware, ['probe', 'doc_subscribe']);
      client.disconnect();
    } finally {
      await stack.close();
    }
  });
});
