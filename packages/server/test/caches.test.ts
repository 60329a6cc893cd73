import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@herald/testkit';
import { SITE1 } from './helpers/fixtures.js';
import { type ClientSocket, type Stack, startStack } from './helpers/stack.js';

type Reply = { ok: boolean; error?: { code: string } };
const ask = (socket: ClientSocket, event: string, ...args: unknown[]) =>
  socket.timeout(10_000).emitWithAck(event, ...args) as Promise<Reply>;

describe('identity and permission caches', () => {
  let stack: Stack;
  const calls = (path: string) =>
    stack.backend.requests.filter((r) => r.path === `/api/method/frappe.realtime.${path}`).length;

  before(async () => {
    stack = await startStack({
      config: { identityCacheTtlMs: 60_000, permissionCacheTtlMs: 60_000, denyCacheTtlMs: 300 },
    });
  });
  after(() => stack.close());

  test('a reconnect with the same session asks the web server once; concurrent connects collapse into one call', async () => {
    const before = calls('get_user_info');
    const sockets = await Promise.all(
      Array.from({ length: 10 }, () => stack.connect({ site: SITE1, sid: 'sid-bob' })),
    );
    const again = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    assert.equal(calls('get_user_info') - before, 1);
    for (const s of [...sockets, again]) s.disconnect();
    const other = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    assert.equal(calls('get_user_info') - before, 2, 'another session is asked for');
    other.disconnect();
  });

  test('an allowed subscription is asked once; a denial is cached for less time, so a grant bites soon', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const before = calls('has_permission');
    assert.deepEqual(await ask(alice, 'doc_subscribe', 'ToDo', 'TD-1'), { ok: true });
    assert.deepEqual(await ask(alice, 'doc_subscribe', 'ToDo', 'TD-1'), { ok: true });
    assert.equal(calls('has_permission') - before, 1);

    assert.equal(
      (await ask(alice, 'doctype_subscribe', 'Project')).error?.code,
      'HERALD_PERMISSION_DENIED',
    );
    stack.backend.behaviour.sites[SITE1]!.permissions!['alice@example.com']!.push('Project');
    await waitFor(async () => (await ask(alice, 'doctype_subscribe', 'Project')).ok, {
      what: 'the grant to take effect',
      timeoutMs: 5000,
      intervalMs: 100,
    });
    alice.disconnect();
  });

  test('a failed check is never cached as allowed', async () => {
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    stack.backend.behaviour = { ...stack.backend.behaviour, failPermission: true };
    try {
      assert.equal(
        (await ask(bob, 'doc_subscribe', 'ToDo', 'TD-9')).error?.code,
        'HERALD_PERMISSION_CHECK_FAILED',
      );
    } finally {
      stack.backend.behaviour = { ...stack.backend.behaviour, failPermission: false };
    }
    const before = calls('has_permission');
    assert.deepEqual(await ask(bob, 'doc_subscribe', 'ToDo', 'TD-9'), { ok: true });
    assert.equal(calls('has_permission') - before, 1, 'asked again after the failure');
    bob.disconnect();
  });

  test('herald_whoami checks the backchannel for real, past the cache', async () => {
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    const before = calls('get_user_info');
    const who = (await bob.timeout(10_000).emitWithAck('herald_whoami')) as {
      backchannel: { ok: boolean };
    };
    assert.equal(who.backchannel.ok, true);
    assert.equal(calls('get_user_info') - before, 1);
    bob.disconnect();
  });
});

describe('cache settings', () => {
  test('a denial cached longer than an allow is refused at start', async () => {
    await assert.rejects(
      startStack({ config: { permissionCacheTtlMs: 1000, denyCacheTtlMs: 5000 } }),
      /a denial must not be cached longer than an allow/,
    );
  });
});
