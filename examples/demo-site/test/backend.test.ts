import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { configSchema, type Herald, silentLogger, startHerald } from '@herald/server';
import { nextEvent, startRedis, waitFor } from '@herald/testkit';
import { createClient } from 'redis';
import { io, type Socket } from 'socket.io-client';
import { seedSite } from '../src/seed.js';

/** A browser-like session against the demo: cookie jar of one sid. */
class Browser {
  sid = '';
  constructor(
    readonly herald: Herald,
    readonly site: string,
  ) {}
  get origin() {
    return `http://${this.site}:${this.herald.port}`;
  }
  async call(method: string, path: string, body?: unknown) {
    const response = await fetch(`${this.herald.url}${path}`, {
      method,
      headers: {
        host: `${this.site}:${this.herald.port}`,
        'content-type': 'application/json',
        cookie: `sid=${this.sid || 'Guest'}`,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const sid = /sid=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
    if (sid) this.sid = sid;
    return {
      status: response.status, // biome-ignore lint/suspicious/noExplicitAny: the demo API answers vary by endpoint
      body: (await response.json()) as Record<string, any>,
    };
  }
  login(usr: string) {
    return this.call('POST', '/api/method/login', { usr, pwd: 'demo' });
  }
  socket(): Promise<Socket> {
    const socket = io(`${this.herald.url}/${this.site}`, {
      transports: ['websocket'],
      extraHeaders: {
        host: `${this.site}:${this.herald.port}`,
        origin: this.origin,
        cookie: `sid=${this.sid}`,
      },
      forceNew: true,
      reconnection: false,
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', reject);
    });
  }
}

describe('the demo site backend, behind herald serve --demo', () => {
  let herald: Herald;
  before(async () => {
    herald = await startHerald(
      configSchema.parse({
        port: 0,
        host: '127.0.0.1',
        demo: true,
        demoData: mkdtempSync(join(tmpdir(), 'herald-demo-')),
      }),
      { logger: silentLogger() },
    );
  });
  after(() => herald.close());

  test('login sets a sid; the socket authenticates through the backchannel to the demo itself', async () => {
    const alice = new Browser(herald, 'site1.localhost');
    const wrong = await alice.call('POST', '/api/method/login', {
      usr: 'alice@example.com',
      pwd: 'nope',
    });
    assert.equal(wrong.status, 401);
    const ok = await alice.login('alice@example.com');
    assert.equal(ok.status, 200);
    assert.ok(alice.sid);
    const socket = await alice.socket();
    const who = (await socket.timeout(5000).emitWithAck('herald_whoami')) as {
      user: string;
      rooms: string[];
    };
    assert.equal(who.user, 'alice@example.com');
    assert.ok(who.rooms.includes('all'));
    socket.disconnect();
  });

  test('a URL with a malformed %-escape is a 400, and the server goes on', async () => {
    const alice = new Browser(herald, 'site1.localhost');
    await alice.login('alice@example.com');
    const bad = await alice.call('GET', '/api/resource/ToDo/%E0%A4%A');
    assert.equal(bad.status, 400);
    assert.equal((await alice.call('GET', '/api/resource/ToDo')).status, 200);
  });

  test('an API token (Authorization: token key:secret) authenticates a socket without a cookie', async () => {
    const socket = io(`${herald.url}/site1.localhost`, {
      transports: ['websocket'],
      extraHeaders: {
        host: `site1.localhost:${herald.port}`,
        authorization: 'token admin-key:admin-secret',
      },
      forceNew: true,
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const who = (await socket.timeout(5000).emitWithAck('herald_whoami')) as { user: string };
    assert.equal(who.user, 'Administrator');
    socket.disconnect();
  });

  test('a new ToDo reaches list subscribers as list_update after the commit; a comment as docinfo_update', async () => {
    const alice = new Browser(herald, 'site1.localhost');
    const bob = new Browser(herald, 'site1.localhost');
    await alice.login('alice@example.com');
    await bob.login('bob@example.com');
    const bobSocket = await bob.socket();
    assert.deepEqual(await bobSocket.timeout(5000).emitWithAck('doctype_subscribe', 'ToDo'), {
      ok: true,
    });
    const listUpdate = nextEvent<[{ doctype: string; name: string; user: string }]>(
      bobSocket,
      'list_update',
    );
    const created = await alice.call('POST', '/api/resource/ToDo', {
      description: 'Write the report',
      allocatedTo: 'bob@example.com',
    });
    assert.equal(created.status, 200);
    const [update] = await listUpdate;
    assert.deepEqual(update, {
      doctype: 'ToDo',
      name: created.body.data.name,
      user: 'alice@example.com',
    });

    const name = created.body.data.name as string;
    assert.deepEqual(await bobSocket.timeout(5000).emitWithAck('doc_subscribe', 'ToDo', name), {
      ok: true,
    });
    const docinfo = nextEvent<[{ key: string; action: string; doc: { content: string } }]>(
      bobSocket,
      'docinfo_update',
    );
    await alice.call('POST', `/api/resource/ToDo/${name}/comments`, { content: 'Started on it' });
    const [info] = await docinfo;
    assert.equal(info.key, 'comments');
    assert.equal(info.doc.content, 'Started on it');
    bobSocket.disconnect();
  });

  test("a new comment's docinfo_update is the Comment doc Frappe publishes, with what the desk's form reads", async () => {
    const alice = new Browser(herald, 'site1.localhost');
    const bob = new Browser(herald, 'site1.localhost');
    await alice.login('alice@example.com');
    await bob.login('bob@example.com');
    const bobSocket = await bob.socket();
    try {
      // TD-0001 is alice's, assigned to bob: both may read it.
      assert.deepEqual(
        await bobSocket.timeout(5000).emitWithAck('doc_subscribe', 'ToDo', 'TD-0001'),
        { ok: true },
      );
      const docinfo = nextEvent<[Record<string, unknown>]>(bobSocket, 'docinfo_update');
      const posted = await alice.call('POST', '/api/resource/ToDo/TD-0001/comments', {
        content: 'On it after lunch',
      });
      assert.equal(posted.status, 200);
      const [info] = await docinfo;

      // Frappe's Comment.notify_change: {doc: comment.as_dict(), key, action}.
      assert.deepEqual(Object.keys(info).sort(), ['action', 'doc', 'key']);
      assert.equal(info.key, 'comments');
      assert.equal(info.action, 'add');
      const doc = info.doc as Record<string, unknown>;
      // The desk's form drops the event unless reference_doctype/reference_name are its own, keys
      // the comment by name, and draws it from comment_type, owner, creation and content.
      assert.equal(doc.doctype, 'Comment');
      assert.match(String(doc.name), /\S/);
      assert.equal(doc.comment_type, 'Comment');
      assert.equal(doc.reference_doctype, 'ToDo');
      assert.equal(doc.reference_name, 'TD-0001');
      assert.equal(doc.content, 'On it after lunch');
      assert.equal(doc.owner, 'alice@example.com');
      assert.equal(doc.comment_email, 'alice@example.com');
      assert.equal(doc.comment_by, 'Alice');
      assert.match(String(doc.creation), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
      // The rest of as_dict(): the standard fields and the Comment doctype's own.
      for (const field of [
        'modified',
        'modified_by',
        'docstatus',
        'idx',
        'subject',
        'published',
        'seen',
        'reference_owner',
        'ip_address',
      ])
        assert.ok(field in doc, `doc has ${field}`);
      assert.equal(doc.reference_owner, 'alice@example.com');
      assert.equal(doc.docstatus, 0);
      assert.equal('todo' in doc, false, 'no demo-only field');

      // add_comment answers the same doc; the form's load lists it under the same fields.
      assert.deepEqual(posted.body.data, doc);
      const loaded = await bob.call('GET', '/api/resource/ToDo/TD-0001');
      assert.deepEqual(
        loaded.body.comments.find((c: { name: string }) => c.name === doc.name),
        doc,
      );
    } finally {
      bobSocket.disconnect();
    }
  });

  test('permissions: carol (Website User) has no desk; a site2 session is unknown on site1', async () => {
    const carol = new Browser(herald, 'site1.localhost');
    await carol.login('carol@example.com');
    assert.equal((await carol.call('GET', '/api/resource/ToDo')).status, 403);
    const socket = await carol.socket();
    const denied = (await socket.timeout(5000).emitWithAck('doctype_subscribe', 'ToDo')) as {
      ok: boolean;
      error: { code: string };
    };
    assert.equal(denied.error.code, 'HERALD_PERMISSION_DENIED');
    socket.disconnect();

    const dave = new Browser(herald, 'site2.localhost');
    await dave.login('dave@example.com');
    const onSite1 = new Browser(herald, 'site1.localhost');
    onSite1.sid = dave.sid;
    assert.equal((await onSite1.call('GET', '/api/method/demo.boot')).body.message.user, 'Guest');
  });

  test('msgprint to the user, and the import job reports progress to the user who started it', async () => {
    const admin = new Browser(herald, 'site1.localhost');
    await admin.login('Administrator');
    const socket = await admin.socket();
    const msg = nextEvent<[{ message: string }]>(socket, 'msgprint');
    await admin.call('POST', '/api/method/demo.msgprint', { message: 'Hi there' });
    assert.equal((await msg)[0].message, 'Hi there');
    const percents: number[] = [];
    socket.on('progress', (data: { percent: number }) => percents.push(data.percent));
    const started = await admin.call('POST', '/api/method/demo.start_import');
    assert.match(started.body.message.task_id, /^import-/);
    await waitFor(() => percents.includes(100), {
      what: 'the import to finish',
      timeoutMs: 20_000,
    });
    socket.disconnect();
  });
});

describe('the demo on Redis (herald serve --demo --redis URL)', () => {
  test("the demo's events go through Redis's events channel to the sockets", async () => {
    const redis = await startRedis();
    const herald = await startHerald(
      configSchema.parse({
        port: 0,
        host: '127.0.0.1',
        demo: true,
        redis: redis.url,
        demoData: mkdtempSync(join(tmpdir(), 'herald-demo-')),
      }),
      { logger: silentLogger() },
    );
    const watcher = createClient({ url: redis.url });
    await watcher.connect();
    const onRedis: string[] = [];
    await watcher.subscribe('events', (raw) => onRedis.push(raw));
    try {
      await waitFor(() => herald.broker.status().ready, { what: 'Redis' });
      const alice = new Browser(herald, 'site1.localhost');
      await alice.login('alice@example.com');
      const socket = await alice.socket();
      const msg = nextEvent<[{ message: string }]>(socket, 'msgprint');
      await alice.call('POST', '/api/method/demo.msgprint', { message: 'Through Redis' });
      assert.equal((await msg)[0].message, 'Through Redis');
      assert.ok(
        onRedis.some((raw) => raw.includes('Through Redis')),
        'it was published on the events channel',
      );
      socket.disconnect();
    } finally {
      await watcher.quit();
      await herald.close();
      await redis.stop();
    }
  });
});

describe('demo data written by an earlier version', () => {
  test('its comments are served as Comment docs, under the ToDo they were on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-demo-'));
    const old = seedSite('site1.localhost');
    // Before comments were Frappe's documents, a comment named its ToDo in `todo`.
    (old.comments as unknown[]).push({
      name: 'CMT-0003',
      todo: 'TD-0001',
      owner: 'bob@example.com',
      content: 'Written before the upgrade',
      creation: '2024-05-01 10:00:00.000',
    });
    old.counter = 3;
    writeFileSync(join(dir, 'site1.localhost.json'), JSON.stringify(old));
    const herald = await startHerald(
      configSchema.parse({ port: 0, host: '127.0.0.1', demo: true, demoData: dir }),
      { logger: silentLogger() },
    );
    try {
      const alice = new Browser(herald, 'site1.localhost');
      await alice.login('alice@example.com');
      const loaded = await alice.call('GET', '/api/resource/ToDo/TD-0001');
      assert.equal(loaded.status, 200);
      assert.deepEqual(loaded.body.comments, [
        {
          doctype: 'Comment',
          name: 'CMT-0003',
          owner: 'bob@example.com',
          creation: '2024-05-01 10:00:00.000',
          modified: '2024-05-01 10:00:00.000',
          modified_by: 'bob@example.com',
          docstatus: 0,
          idx: 0,
          comment_type: 'Comment',
          comment_email: 'bob@example.com',
          subject: null,
          comment_by: 'Bob',
          published: 0,
          seen: 0,
          reference_doctype: 'ToDo',
          reference_name: 'TD-0001',
          reference_owner: 'alice@example.com',
          content: 'Written before the upgrade',
          ip_address: null,
        },
      ]);
    } finally {
      await herald.close();
    }
  });
});
