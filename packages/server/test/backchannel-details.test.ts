import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ERRORS, type ErrorCode } from '@herald/server';
import { nextEvent, waitFor } from '@herald/testkit';
import { SITE1 } from './helpers/fixtures.js';
import { logSink } from './helpers/log-sink.js';
import { type ClientSocket, type Stack, startStack } from './helpers/stack.js';

const ADMIN_TOKEN = 'operator-token-0123456789';
const PERMISSION_PATH = '/api/method/frappe.realtime.has_permission';
/** What the backend says when it fails: its words must stay between it and the operator. */
const BACKEND_TEXT = 'Traceback: pymysql.err.OperationalError at db-internal-7.corp:3306';

type Reply = { ok: boolean; error?: { code: string; message: string; hint?: string } };
const ask = (socket: ClientSocket, event: string, ...args: unknown[]) =>
  socket.timeout(10_000).emitWithAck(event, ...args) as Promise<Reply>;

interface Whoami {
  backchannel: Record<string, unknown>;
}

describe('no client-visible answer names the backchannel URL or what the backend said', () => {
  let stack: Stack;
  const logs = logSink();
  /** Every text a client could read: the backend's URL, its port, its words. */
  let secrets: string[];
  const assertClean = (what: string, seen: unknown) => {
    const text = JSON.stringify(seen);
    for (const secret of [...secrets, 'HTTP 500', BACKEND_TEXT, 'db-internal']) {
      assert.ok(!text.includes(secret), `${what} must not contain ${secret}: ${text}`);
    }
  };

  before(async () => {
    stack = await startStack({ config: { adminToken: ADMIN_TOKEN }, logger: logs.logger });
    const url = new URL(stack.backend.url);
    secrets = [stack.backend.url, url.host, `:${url.port}`];
  });
  after(() => stack.close());

  const failPermissions = (how: 'error' | 'redirect') => {
    stack.backend.behaviour =
      how === 'redirect'
        ? { ...stack.backend.behaviour, redirectTo: 'https://internal-web.corp:8443' }
        : {
            ...stack.backend.behaviour,
            routes: {
              [PERMISSION_PATH]: () => ({ status: 500, body: { exception: BACKEND_TEXT } }),
            },
          };
  };
  const heal = () => {
    stack.backend.behaviour = { ...stack.backend.behaviour, routes: {}, redirectTo: undefined };
  };

  for (const how of ['error', 'redirect'] as const) {
    test(`a failed permission check (${how}): the ack and herald_error carry the code and the catalogue's words`, async () => {
      const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
      failPermissions(how);
      try {
        const reply = await ask(alice, 'doctype_subscribe', 'ToDo');
        assert.equal(reply.ok, false);
        assert.equal(reply.error?.code, 'HERALD_PERMISSION_CHECK_FAILED');
        const cause: ErrorCode =
          how === 'redirect' ? 'HERALD_BACKEND_REDIRECT' : 'HERALD_PERMISSION_CHECK_FAILED';
        assert.equal(
          reply.error?.message,
          `could not check read permission on ToDo: ${ERRORS[cause].message}`,
        );
        assertClean('the ack', reply);
        assert.ok(!JSON.stringify(reply).includes('internal-web.corp'));

        // No ack callback: the failure comes as herald_error.
        const error = nextEvent<[unknown]>(alice, 'herald_error');
        alice.emit('doc_subscribe', 'Note', 'N-1');
        const [body] = await error;
        assert.equal((body as Reply).error?.code, 'HERALD_PERMISSION_CHECK_FAILED');
        assertClean('herald_error', body);
        assert.ok(!JSON.stringify(body).includes('internal-web.corp'));
      } finally {
        heal();
      }
      // The operator's log has what the client does not.
      const logged = logs.lines.filter((l) => l.component === 'backchannel');
      const line = logged.at(-1)!;
      assert.equal(line.level, 40, 'a warning');
      assert.ok(String(line.detail).includes(stack.backend.url), String(line.detail));
      assert.match(
        String(line.detail),
        how === 'redirect' ? /redirected .* to https:\/\/internal-web\.corp:8443/ : /HTTP 500/,
      );
      alice.disconnect();
    });
  }

  test('herald_whoami: a client gets whether the backchannel works, never its URL or the error text', async () => {
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    const healthy = (await bob.timeout(10_000).emitWithAck('herald_whoami')) as Whoami;
    assert.equal(healthy.backchannel.ok, true);
    assert.equal(healthy.backchannel.url, undefined);
    assertClean('herald_whoami', healthy);

    stack.backend.behaviour = {
      ...stack.backend.behaviour,
      redirectTo: 'https://internal-web.corp:8443',
    };
    try {
      const broken = (await bob.timeout(10_000).emitWithAck('herald_whoami')) as Whoami;
      assert.deepEqual(broken.backchannel, {
        ok: false,
        code: 'HERALD_BACKEND_REDIRECT',
        message: ERRORS.HERALD_BACKEND_REDIRECT.message,
        hint: ERRORS.HERALD_BACKEND_REDIRECT.hint,
      });
      assertClean('herald_whoami', broken);
      assert.ok(!JSON.stringify(broken).includes('internal-web.corp'));
    } finally {
      heal();
    }
    bob.disconnect();
  });

  test("herald_whoami: the operator's socket (it presented the admin token) gets the URL and the detail", async () => {
    const doctor = await stack.connect({
      site: SITE1,
      sid: 'sid-bob',
      auth: { heraldAdminToken: ADMIN_TOKEN },
    });
    const healthy = (await doctor.timeout(10_000).emitWithAck('herald_whoami')) as Whoami;
    assert.equal(healthy.backchannel.ok, true);
    assert.equal(healthy.backchannel.url, stack.backend.url);
    stack.backend.behaviour = {
      ...stack.backend.behaviour,
      redirectTo: 'https://internal-web.corp:8443',
    };
    try {
      const broken = (await doctor.timeout(10_000).emitWithAck('herald_whoami')) as Whoami;
      assert.equal(broken.backchannel.url, stack.backend.url);
      assert.match(
        String(broken.backchannel.detail),
        /^backend redirected .* to https:\/\/internal-web\.corp:8443\//,
      );
    } finally {
      heal();
    }
    doctor.disconnect();

    // A wrong token is any client, and is logged.
    const guess = await stack.connect({
      site: SITE1,
      sid: 'sid-bob',
      auth: { heraldAdminToken: 'a-guess-of-the-token' },
    });
    const who = (await guess.timeout(10_000).emitWithAck('herald_whoami')) as Whoami;
    assert.equal(who.backchannel.url, undefined);
    await waitFor(() => logs.lines.some((l) => /wrong admin token/.test(String(l.msg))), {
      what: 'the wrong token logged',
    });
    guess.disconnect();
  });
});
