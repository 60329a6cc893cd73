import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@herald/testkit';
import { SITE1 } from './helpers/fixtures.js';
import { type ClientSocket, recorder, type Stack, startStack } from './helpers/stack.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
type Viewers = { doctype: string; docname: string; users: string[] };

describe('doc_viewers: who is viewing a document', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  const open = (socket: ClientSocket, docname: string) =>
    socket.timeout(10_000).emitWithAck('doc_open', 'ToDo', docname);
  const close = (socket: ClientSocket, docname: string) =>
    socket.timeout(10_000).emitWithAck('doc_close', 'ToDo', docname);
  const viewersSeen = (r: ReturnType<typeof recorder>, docname: string) =>
    r
      .of('doc_viewers')
      .map(([v]) => v as Viewers)
      .filter((v) => v.docname === docname);
  const lastViewers = (r: ReturnType<typeof recorder>, docname: string) =>
    viewersSeen(r, docname).at(-1)?.users;

  test('open, second tab, close, disconnect: each step tells the others', async () => {
    const alice1 = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    const [ra1, rb] = [recorder(alice1), recorder(bob)];

    // alice opens alone: nothing is sent.
    assert.deepEqual(await open(alice1, 'TD-1'), { ok: true });
    // bob opens: both get [alice, bob].
    assert.deepEqual(await open(bob, 'TD-1'), { ok: true });
    await waitFor(
      () => viewersSeen(ra1, 'TD-1').length === 1 && viewersSeen(rb, 'TD-1').length === 1,
      { what: 'viewers after bob opens' },
    );
    assert.deepEqual(viewersSeen(ra1, 'TD-1'), [
      { doctype: 'ToDo', docname: 'TD-1', users: [ALICE, BOB] },
    ]);
    assert.deepEqual(lastViewers(rb, 'TD-1'), [ALICE, BOB]);

    // alice opens the same document in a second tab: still two users.
    const alice2 = await stack.connect({ site: SITE1, sid: 'sid-alice-2' });
    const ra2 = recorder(alice2);
    await open(alice2, 'TD-1');
    await waitFor(() => viewersSeen(rb, 'TD-1').length === 2, {
      what: 'viewers after the second tab',
    });
    assert.deepEqual(lastViewers(rb, 'TD-1'), [ALICE, BOB]);
    assert.deepEqual(lastViewers(ra2, 'TD-1'), [ALICE, BOB]);

    // alice closes one tab: bob and the other tab still see both.
    await close(alice1, 'TD-1');
    await waitFor(() => viewersSeen(rb, 'TD-1').length === 3, {
      what: 'viewers after a tab closes',
    });
    assert.deepEqual(lastViewers(rb, 'TD-1'), [BOB, ALICE]);
    assert.equal(viewersSeen(ra1, 'TD-1').length, 2, 'the closed tab is no longer told');

    // alice's remaining tab disconnects: bob is alone.
    alice2.disconnect();
    await waitFor(() => viewersSeen(rb, 'TD-1').length === 4, {
      what: 'viewers after alice leaves',
    });
    assert.deepEqual(lastViewers(rb, 'TD-1'), [BOB]);

    alice1.disconnect();
    bob.disconnect();
  });

  test('after doc_close of one document, a disconnect still notifies the others (upstream defect 1)', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    const rb = recorder(bob);
    for (const doc of ['TD-A', 'TD-B']) {
      await open(bob, doc);
      await open(alice, doc);
    }
    await waitFor(
      () => viewersSeen(rb, 'TD-A').length === 1 && viewersSeen(rb, 'TD-B').length === 1,
      { what: 'both docs shared' },
    );
    await close(alice, 'TD-A');
    await waitFor(() => viewersSeen(rb, 'TD-A').length === 2, { what: 'TD-A after close' });
    assert.deepEqual(lastViewers(rb, 'TD-A'), [BOB]);
    alice.disconnect();
    await waitFor(() => viewersSeen(rb, 'TD-B').length === 2, { what: 'TD-B after disconnect' });
    assert.deepEqual(lastViewers(rb, 'TD-B'), [BOB]);
    assert.equal(viewersSeen(rb, 'TD-A').length, 2, 'TD-A, already closed, is not notified again');
    bob.disconnect();
  });

  test('doc_open needs read permission; a denied open joins no room', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const answer = (await alice.timeout(10_000).emitWithAck('doc_open', 'Salary Slip', 'SS-1')) as {
      ok: boolean;
      error?: { code: string };
    };
    assert.equal(answer.error?.code, 'HERALD_PERMISSION_DENIED');
    const nsp = stack.herald.io._nsps.get(`/${SITE1}`)!;
    assert.equal(nsp.adapter.rooms.has('open_doc:Salary Slip/SS-1'), false);
    alice.disconnect();
  });
});

describe('doc_viewers of a busy document', () => {
  const toggle = (socket: ClientSocket, event: 'doc_open' | 'doc_close', docname: string) =>
    socket.timeout(10_000).emitWithAck(event, 'ToDo', docname);

  for (const intervalMs of [2000, 0]) {
    test(
      intervalMs
        ? 'with an interval: the first change is told at once, a burst after it as one latest state'
        : 'with --viewers-interval 0: every change is told',
      async () => {
        const stack = await startStack({ config: { viewersIntervalMs: intervalMs } });
        try {
          const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
          const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
          const admin = await stack.connect({ site: SITE1, sid: 'sid-admin' });
          const told: { users: string[]; at: number }[] = [];
          bob.on('doc_viewers', (v: Viewers) => told.push({ users: v.users, at: Date.now() }));
          await toggle(bob, 'doc_open', 'TD-9');
          const start = Date.now();
          await toggle(alice, 'doc_open', 'TD-9');
          await waitFor(() => told.length === 1, { what: 'the first change' });
          assert.ok(
            intervalMs === 0 || told[0]!.at - start < intervalMs,
            'told at once, not at the end of the interval',
          );
          // A burst of changes.
          await toggle(admin, 'doc_open', 'TD-9');
          await toggle(alice, 'doc_close', 'TD-9');
          await toggle(alice, 'doc_open', 'TD-9');
          await toggle(alice, 'doc_close', 'TD-9');
          const expected = intervalMs
            ? [
                [BOB, ALICE],
                [BOB, 'Administrator'],
              ]
            : [
                [BOB, ALICE],
                [BOB, ALICE, 'Administrator'],
                [BOB, 'Administrator'],
                [BOB, 'Administrator', ALICE],
                [BOB, 'Administrator'],
              ];
          await waitFor(() => told.length === expected.length, {
            what: 'the changes to be told',
            timeoutMs: 15_000,
          });
          assert.deepEqual(
            told.map((t) => t.users),
            expected,
          );
          if (intervalMs)
            assert.ok(
              told[1]!.at - told[0]!.at >= intervalMs - 50,
              'the latest state, an interval later',
            );
        } finally {
          await stack.close();
        }
      },
    );
  }
});
