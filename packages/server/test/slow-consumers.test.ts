import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { delay, waitFor } from '@herald/testkit';
import { SITE1 } from './helpers/fixtures.js';
import { logSink } from './helpers/log-sink.js';
import { type ClientSocket, recorder, type Stack, startStack } from './helpers/stack.js';

const ALICE = 'alice@example.com';
const MAX = 1024 * 1024;

/** The TCP socket under a socket.io-client websocket connection (Node's `ws`). */
const tcpOf = (client: ClientSocket) =>
  (client.io.engine.transport as unknown as { ws: { _socket: import('node:net').Socket } }).ws
    ._socket;

describe('slow consumers: what waits to be written to one socket is bounded', () => {
  let stack: Stack;
  const logs = logSink();
  before(async () => {
    stack = await startStack({
      config: { maxOutgoingBytes: MAX, maxMessageBytes: 64 * 1024, recoveryWindowMs: 0 },
      logger: logs.logger,
    });
  });
  after(() => stack.close());

  const metric = async (name: string) => {
    const text = await (await fetch(`${stack.herald.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  };

  /**
   * Publishes 10 KB events to alice until the slow socket is gone from the server (at most 60 MB:
   * far past what the kernel's buffers take), spacing them so the healthy reader keeps up.
   */
  const publishUntilGone = async (id: string) => {
    const nsp = stack.herald.io.of(`/${SITE1}`);
    const body = 'x'.repeat(10_000);
    let sent = 0;
    while (nsp.sockets.has(id) && sent < 6000) {
      await stack.herald.publish({
        event: 'bulk',
        message: { n: sent, body },
        room: `user:${ALICE}`,
        namespace: SITE1,
      });
      sent += 1;
      if (sent % 20 === 0) await delay(1);
    }
    return sent;
  };

  for (const variant of ['stops reading', 'stops reading but still answers pings'] as const) {
    test(`a client that ${variant} is dropped past --max-outgoing-bytes; a healthy one gets every event`, async () => {
      const slow = await stack.connect({ site: SITE1, sid: 'sid-alice' });
      const healthy = await stack.connect({ site: SITE1, sid: 'sid-alice-2' });
      const seen = recorder(healthy);
      const dropsBefore = logs.lines.filter((l) =>
        /reads slower than it is sent to/.test(l.msg),
      ).length;
      const id = slow.id!;
      tcpOf(slow).pause();
      // An Engine.IO pong every 100 ms, written without reading anything.
      const pongs =
        variant === 'stops reading'
          ? undefined
          : setInterval(() => {
              if (!tcpOf(slow).destroyed)
                tcpOf(slow).write(Buffer.from([0x81, 0x81, 0, 0, 0, 0, 0x33]));
            }, 100);
      try {
        const sent = await publishUntilGone(id);
        assert.ok(
          !stack.herald.io.of(`/${SITE1}`).sockets.has(id),
          `still connected after ${sent} events`,
        );
        const drops = logs.lines.filter((l) => /reads slower than it is sent to/.test(l.msg));
        assert.equal(drops.length, dropsBefore + 1);
        assert.ok(Number(drops.at(-1)!.waiting) > MAX, 'the log says how much was waiting');
        assert.ok((await metric('herald_reads_paused_total')) >= 1, 'its reading was paused first');
        // The healthy socket, in the same room, gets every event, in order.
        await waitFor(() => seen.of('bulk').length === sent, {
          what: `${sent} events`,
          timeoutMs: 30_000,
        });
        assert.deepEqual(
          seen.of('bulk').map(([m]) => (m as { n: number }).n),
          Array.from({ length: sent }, (_, i) => i),
        );
      } finally {
        clearInterval(pongs);
        slow.disconnect();
        healthy.disconnect();
      }
    });
  }

  test('the drops are counted by reason', async () => {
    const text = await (await fetch(`${stack.herald.url}/metrics`)).text();
    assert.match(text, /herald_sockets_dropped_total\{reason="outgoing_buffer"\} 2/);
  });
});
