import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Realtime } from '@herald/client';
import {
  fixtureSites,
  freePort,
  SITE1,
  startRedis,
  startTcpProxy,
  startTestBackend,
  waitFor,
} from '@herald/testkit';
import { createClient } from 'redis';
import { clientFor, collect, runHerald, startStack } from './helpers.js';

describe('the client survives reconnects', () => {
  test('the server process is killed and started again: subscriptions and open docs come back without app code', async () => {
    const redis = await startRedis();
    const backend = await startTestBackend({ sites: fixtureSites() });
    const port = await freePort();
    const args = [
      'serve',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--redis',
      redis.url,
      '--backend',
      backend.url,
    ];
    let server = runHerald(args);
    const clients: Realtime[] = [];
    const publisher = createClient({ url: redis.url });
    await publisher.connect();
    try {
      await server.waitForOutput(/Herald listening/);
      const url = `http://127.0.0.1:${port}`;
      const alice = clientFor(url, port, SITE1, 'sid-alice');
      const bob = clientFor(url, port, SITE1, 'sid-bob');
      clients.push(alice, bob);
      await alice.doctypeSubscribe('ToDo');
      await alice.docSubscribe('Note', 'N-1');
      await alice.taskSubscribe('job-9');
      await alice.docOpen('ToDo', 'TD-1');
      await bob.docOpen('ToDo', 'TD-1');
      let resyncs = 0;
      alice.onResync(() => {
        resyncs += 1;
      });

      server.child.kill('SIGKILL');
      await server.exited;
      await waitFor(() => alice.status.get() === 'reconnecting', { what: 'reconnecting' });
      server = runHerald(args);
      await server.waitForOutput(/Herald listening/);
      await waitFor(() => alice.status.get() === 'connected' && bob.status.get() === 'connected', {
        what: 'both back',
        timeoutMs: 20_000,
      });
      assert.equal(alice.recovered, false, 'a new server process cannot recover the session');
      await waitFor(() => resyncs === 1, { what: 'the resync event' });

      const viewers = collect<{ users: string[] }>(alice, 'doc_viewers');
      const [list, doc, task] = [
        collect(alice, 'list_update'),
        collect(alice, 'doc_update'),
        collect(alice, 'task_progress'),
      ];
      await waitFor(
        async () => {
          // The restored subscriptions may land a moment after the connect: publish until they do.
          await publisher.publish(
            'events',
            JSON.stringify({
              event: 'list_update',
              message: { doctype: 'ToDo' },
              room: 'doctype:ToDo',
              namespace: SITE1,
            }),
          );
          await publisher.publish(
            'events',
            JSON.stringify({
              event: 'doc_update',
              message: { name: 'N-1' },
              room: 'doc:Note/N-1',
              namespace: SITE1,
            }),
          );
          await publisher.publish(
            'events',
            JSON.stringify({
              event: 'task_progress',
              message: { percent: 1 },
              room: 'task_progress:job-9',
              namespace: SITE1,
            }),
          );
          return list.length > 0 && doc.length > 0 && task.length > 0;
        },
        { what: 'events for every restored subscription', intervalMs: 200 },
      );
      // Both reopened TD-1: whoever reopened second told the other.
      const admin = clientFor(url, port, SITE1, 'sid-admin');
      clients.push(admin);
      await admin.docOpen('ToDo', 'TD-1');
      await waitFor(
        () =>
          viewers.some(
            (v) => v.users.includes('bob@example.com') && v.users.includes('Administrator'),
          ),
        {
          what: 'viewers with bob again',
        },
      );
      assert.ok(viewers.at(-1)!.users.includes('alice@example.com'));
    } finally {
      for (const c of clients) c.close();
      server.child.kill('SIGKILL');
      await publisher.quit();
      await backend.close();
      await redis.stop();
    }
  });

  test('a 5-second network cut with 50 events published meanwhile: all arrive, in order, none twice', async () => {
    const stack = await startStack();
    const proxy = await startTcpProxy(stack.herald.port!);
    const client = clientFor(
      `http://127.0.0.1:${proxy.port}`,
      stack.herald.port!,
      SITE1,
      'sid-alice',
    );
    try {
      await client.docSubscribe('Note', 'N-1');
      const seen = collect<{ i: number }>(client, 'seq');
      proxy.cut();
      await waitFor(() => client.status.get() === 'reconnecting', { what: 'the client to notice' });
      await waitFor(() => stack.herald.io._nsps.get(`/${SITE1}`)?.sockets.size === 0, {
        what: 'the server to notice',
      });
      // Made while offline: takes effect once the connection is back.
      const late = client.taskSubscribe('job-late');
      for (let i = 0; i < 50; i += 1)
        await stack.herald.publish({
          event: 'seq',
          message: { i },
          room: 'doc:Note/N-1',
          namespace: SITE1,
        });
      await new Promise((resolve) => setTimeout(resolve, 5000)); // the cut itself
      proxy.restore();
      await waitFor(() => client.status.get() === 'connected', { what: 'back', timeoutMs: 15_000 });
      assert.equal(client.recovered, true);
      await waitFor(() => seen.length >= 50, { what: '50 events' });
      assert.deepEqual(
        seen.map((m) => m.i),
        Array.from({ length: 50 }, (_, i) => i),
      );
      await late;
      const progress = collect(client, 'task_progress');
      await stack.herald.publish({
        event: 'task_progress',
        message: { percent: 3 },
        room: 'task_progress:job-late',
        namespace: SITE1,
      });
      await waitFor(() => progress.length === 1, { what: 'the subscription made offline' });
      assert.equal(seen.length, 50, 'none twice');
    } finally {
      client.close();
      await proxy.close();
      await stack.close();
    }
  });

  test('a cut longer than the recovery window: not recovered, the app is told, subscriptions restored', async () => {
    const stack = await startStack({ config: { recoveryWindowMs: 1000 } });
    const proxy = await startTcpProxy(stack.herald.port!);
    const client = clientFor(
      `http://127.0.0.1:${proxy.port}`,
      stack.herald.port!,
      SITE1,
      'sid-alice',
    );
    try {
      await client.docSubscribe('Note', 'N-1');
      let resynced = false;
      client.onResync(() => {
        resynced = true;
      });
      proxy.cut();
      await waitFor(() => stack.herald.io._nsps.get(`/${SITE1}`)?.sockets.size === 0, {
        what: 'the server to notice',
      });
      await new Promise((resolve) => setTimeout(resolve, 2500)); // longer than the window
      proxy.restore();
      await waitFor(() => client.status.get() === 'connected', { what: 'back', timeoutMs: 15_000 });
      assert.equal(client.recovered, false);
      await waitFor(() => resynced, { what: 'the resync event' });
      const docs = collect(client, 'doc_update');
      await waitFor(
        async () => {
          await stack.herald.publish({
            event: 'doc_update',
            message: {},
            room: 'doc:Note/N-1',
            namespace: SITE1,
          });
          return docs.length > 0;
        },
        { what: 'the restored subscription', intervalMs: 100 },
      );
    } finally {
      client.close();
      await proxy.close();
      await stack.close();
    }
  });
});
