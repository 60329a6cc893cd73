import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@herald/testkit';
import { createClient } from 'redis';
import type { Socket } from 'socket.io-client';
import { SITE1 } from './helpers/fixtures.js';
import { clientSocket, recorder, type Stack, startStack } from './helpers/stack.js';

const ALICE = 'alice@example.com';
/** An object nested `depth` levels deep (about 10 KB at 5,000). */
const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = { a: value };
  return value;
};

describe('events nested too deeply to be encoded again', () => {
  let stack: Stack;
  let publisher: ReturnType<typeof createClient>;
  const made: Socket[] = [];
  /** A socket that reconnects at once, as the desk does, and recovers its session. */
  const away = async () => {
    const client = clientSocket(stack.herald.url, stack.herald.port!, {
      site: SITE1,
      sid: 'sid-alice',
    });
    client.io.reconnection(true).reconnectionDelay(50).reconnectionDelayMax(100);
    made.push(client);
    const session = new Promise((resolve) => client.once('herald_session', resolve));
    client.connect();
    await session;
    return client;
  };
  before(async () => {
    stack = await startStack({ redis: true, config: { recoveryWindowMs: 60_000 } });
    publisher = createClient({ url: stack.redis!.url });
    publisher.on('error', () => undefined);
    await publisher.connect();
    await waitFor(() => stack.herald.broker.status().ready, { what: 'Herald subscribed' });
  });
  after(async () => {
    for (const client of made) client.disconnect();
    await publisher.quit().catch(() => undefined);
    await stack.close();
  });

  test('PUBLISH of a message 5,000 levels deep is refused at the bridge as too_deep; a client back from away recovers', async () => {
    const alice = await away();
    const seen = recorder(alice);
    const sockets = stack.herald.io.of(`/${SITE1}`).sockets;
    const id = alice.id!;
    alice.io.engine.close();
    await waitFor(() => !sockets.has(id), { what: 'the server to see alice gone' });
    const before = stack.herald.router.stats.skipped.too_deep;
    // Written by hand: JSON.stringify itself may overflow on it, depending on the stack left.
    const deep = `{"event":"deep","room":"user:${ALICE}","namespace":"${SITE1}","message":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    await publisher.publish('events', deep);
    await waitFor(() => stack.herald.router.stats.skipped.too_deep === before + 1, {
      what: 'the deep message skipped',
    });
    assert.equal(stack.herald.router.stats.skipped.reserved_event, 0);
    await publisher.publish(
      'events',
      JSON.stringify({ event: 'after', message: 1, room: `user:${ALICE}`, namespace: SITE1 }),
    );
    await waitFor(() => alice.connected, { what: 'alice back' });
    assert.equal(alice.recovered, true);
    await waitFor(() => seen.of('after').length === 1, { what: 'the event after it' });
    assert.deepEqual(seen.of('deep'), []);
    const metrics = await (await fetch(`${stack.herald.url}/metrics`)).text();
    assert.match(metrics, /herald_events_skipped_total\{kind="too_deep"\} 1/);
  });

  test('a packet no encoder can take is dropped and counted, never fatal, when a client recovers', async () => {
    const alice = await away();
    const seen = recorder(alice);
    const nsp = stack.herald.io.of(`/${SITE1}`);
    const id = alice.id!;
    alice.io.engine.close();
    await waitFor(() => !nsp.sockets.has(id), { what: 'the server to see alice gone' });
    // Past the bridge (as an app's handler could emit it): kept for the recovery window, then
    // encoded again for the recovered socket, deep in the handshake, where a throw is not caught.
    nsp.to(`user:${ALICE}`).emit('deep', nested(20_000));
    nsp.to(`user:${ALICE}`).emit('after', 2);
    await waitFor(() => alice.connected, { what: 'alice back' });
    assert.equal(alice.recovered, true);
    await waitFor(() => seen.of('after').length === 1, { what: 'the event after it' });
    assert.deepEqual(seen.of('deep'), []);
    const metrics = await (await fetch(`${stack.herald.url}/metrics`)).text();
    assert.match(metrics, /herald_encode_failures_total [1-9]/);
    // The server is still up and answering.
    assert.deepEqual(await alice.timeout(5000).emitWithAck('ping'), { ok: true });
  });
});
