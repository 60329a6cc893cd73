import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { waitFor } from '@herald/testkit';
import { SITE1 } from './helpers/fixtures.js';
import { type Stack, startStack } from './helpers/stack.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('site namespaces: created on demand, removed when idle', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { recoveryWindowMs: 60_000 } });
  });
  after(() => stack.close());

  test('a namespace whose connections were all rejected is removed after the idle time', async () => {
    const error = await stack.connectError({
      site: 'nobody.example',
      sid: 'x',
      host: `${SITE1}:1`,
      origin: null,
    });
    assert.equal(error.message, 'Invalid namespace');
    const nsps = stack.herald.io._nsps;
    assert.ok(nsps.has('/nobody.example'), 'Socket.IO created it for the attempt');
    const adapter = new WeakRef(nsps.get('/nobody.example')!.adapter);
    const now = Date.now();
    assert.deepEqual(stack.herald.namespaces.sweep(now), [], 'first seen empty: kept');
    assert.deepEqual(
      stack.herald.namespaces.sweep(now + 30_000),
      [],
      'empty for less than the window: kept',
    );
    assert.deepEqual(stack.herald.namespaces.sweep(now + 60_000), ['/nobody.example']);
    assert.equal(nsps.has('/nobody.example'), false);
    // Nothing keeps it: Socket.IO's session-aware adapter left a timer running that did.
    await waitFor(
      () => {
        gc();
        return adapter.deref() === undefined;
      },
      { what: 'the removed namespace collected', timeoutMs: 10_000 },
    );
  });

  test('a namespace with sockets is kept, and one emptied is kept for the recovery window', async () => {
    const socket = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const now = Date.now();
    stack.herald.namespaces.sweep(now);
    assert.deepEqual(stack.herald.namespaces.sweep(now + 120_000), [], 'in use: kept');
    socket.disconnect();
    await waitFor(() => stack.herald.io._nsps.get(`/${SITE1}`)?.sockets.size === 0, {
      what: 'the server to see the disconnect',
    });
    assert.deepEqual(
      stack.herald.namespaces.sweep(now + 120_001),
      [],
      'just emptied: kept for returning sessions',
    );
    assert.deepEqual(stack.herald.namespaces.sweep(now + 180_001), [`/${SITE1}`]);
  });
});
