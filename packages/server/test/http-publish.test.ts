import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPublisher, type PublishError } from '@herald/publisher';
import { freePort, waitFor } from '@herald/testkit';
import { runHerald } from './helpers/cli.js';
import { SITE1, SITE2 } from './helpers/fixtures.js';
import { recorder, type Stack, startStack } from './helpers/stack.js';

const KEY = 'publish-key-0123456789abcdef';

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${KEY}` },
) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

for (const mode of ['memory', 'redis'] as const) {
  describe(`the HTTP publish API (${mode} broker)`, () => {
    let stack: Stack;
    let endpoint: string;
    before(async () => {
      stack = await startStack({
        redis: mode === 'redis',
        config: { apiKeys: [KEY], maxMessageBytes: 4096 },
      });
      endpoint = `${stack.herald.url}/api/v1/publish`;
      if (mode === 'redis')
        await waitFor(() => stack.herald.broker.status().ready, { what: 'Redis' });
    });
    after(() => stack.close());

    test('202 and delivery to a connected socket, by room or by publish_realtime arguments', async () => {
      const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
      const r = recorder(alice);
      assert.deepEqual(
        await post(endpoint, {
          site: SITE1,
          event: 'hello',
          message: { n: 1 },
          room: 'user:alice@example.com',
        }),
        { status: 202, body: { accepted: 1 } },
      );
      assert.equal(
        (
          await post(endpoint, {
            site: SITE1,
            event: 'msgprint',
            message: 'by user',
            user: 'alice@example.com',
          })
        ).status,
        202,
      );
      await waitFor(() => r.of('hello').length === 1 && r.of('msgprint').length === 1, {
        what: 'both events',
      });
      assert.deepEqual(r.of('hello'), [[{ n: 1 }]]);
      assert.deepEqual(r.of('msgprint'), [['by user']]);
      alice.disconnect();
    });

    test('a batch of messages', async () => {
      const admin = await stack.connect({ site: SITE1, sid: 'sid-admin' });
      const r = recorder(admin);
      const messages = Array.from({ length: 50 }, (_, i) => ({
        site: SITE1,
        event: 'seq',
        message: i,
        room: 'all',
      }));
      assert.deepEqual(await post(`${endpoint}/batch`, { messages }), {
        status: 202,
        body: { accepted: 50 },
      });
      await waitFor(() => r.of('seq').length === 50, { what: '50 events' });
      assert.deepEqual(
        r.of('seq').map(([m]) => m),
        Array.from({ length: 50 }, (_, i) => i),
      );
      const tooMany = await post(`${endpoint}/batch`, {
        messages: Array.from({ length: 1001 }, () => messages[0]),
      });
      assert.equal(tooMany.status, 413, 'over the body limit first');
      admin.disconnect();
    });

    test('401 without or with a wrong key', async () => {
      const missing = await post(endpoint, { site: SITE1, event: 'x', room: 'all' }, {});
      assert.equal(missing.status, 401);
      assert.equal(missing.body.error.code, 'HERALD_PUBLISH_UNAUTHORIZED');
      assert.match(missing.body.error.message, /missing API key/);
      const wrong = await post(
        endpoint,
        { site: SITE1, event: 'x', room: 'all' },
        { authorization: 'Bearer nope-nope-nope-nope' },
      );
      assert.equal(wrong.status, 401);
      assert.match(wrong.body.error.message, /wrong API key/);
    });

    test('400 names each bad field', async () => {
      const answer = await post(endpoint, { site: '', event: 5, room: 'all', colour: 'red' });
      assert.equal(answer.status, 400);
      assert.equal(answer.body.error.code, 'HERALD_PUBLISH_INVALID');
      const paths = answer.body.error.fields.map((f: { path: string }) => f.path).sort();
      assert.deepEqual(paths, ['(body)', 'event', 'site']);
      assert.match(answer.body.error.message, /unknown field\(s\) colour/);
      const notJson = await post(endpoint, '{"site":');
      assert.equal(notJson.status, 400);
      assert.equal(notJson.body.error.code, 'HERALD_PUBLISH_BAD_JSON');
    });

    test('413 over --max-message-bytes', async () => {
      const answer = await post(endpoint, {
        site: SITE1,
        event: 'big',
        message: 'x'.repeat(5000),
        room: 'all',
      });
      assert.equal(answer.status, 413);
      assert.match(answer.body.error.message, /larger than 4096 bytes/);
    });

    test('the publisher package over HTTP: delivered, and refusals are coded errors', async () => {
      const dave = await stack.connect({ site: SITE2, sid: 'sid-dave' });
      const r = recorder(dave);
      const publisher = createPublisher({
        site: SITE2,
        http: { url: stack.herald.url, apiKey: KEY },
      });
      await publisher.publishToUser('dave@example.com', 'over_http', { ok: true });
      await waitFor(() => r.of('over_http').length === 1, { what: 'the event' });
      const wrongKey = createPublisher({
        site: SITE2,
        http: { url: stack.herald.url, apiKey: 'not-a-key-not-a-key' },
      });
      await assert.rejects(
        wrongKey.publishToAll('x'),
        (error: PublishError) => error.code === 'HERALD_PUBLISH_REJECTED' && error.status === 401,
      );
      const down = createPublisher({
        site: SITE2,
        http: { url: `http://127.0.0.1:${await freePort()}`, apiKey: KEY },
      });
      await assert.rejects(
        down.publishToAll('x'),
        (error: PublishError) =>
          error.code === 'HERALD_PUBLISH_HTTP_FAILED' && /ECONNREFUSED/.test(error.message),
      );
      dave.disconnect();
    });

    test('herald publish, end to end to a connected socket', async () => {
      const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
      const r = recorder(bob);
      const transport =
        mode === 'redis'
          ? ['--redis', stack.redis!.url]
          : ['--http', stack.herald.url, '--api-key', KEY];
      const proc = runHerald([
        'publish',
        '--site',
        SITE1,
        '--user',
        'bob@example.com',
        '--event',
        'from_cli',
        '--message',
        '{"n": 7}',
        ...transport,
      ]);
      assert.equal(await proc.exited, 0, proc.output());
      assert.deepEqual(JSON.parse(proc.output()), {
        event: 'from_cli',
        message: { n: 7 },
        room: 'user:bob@example.com',
        namespace: SITE1,
      });
      await waitFor(() => r.of('from_cli').length === 1, { what: 'the event' });
      bob.disconnect();
    });
  });
}

describe('herald publish: bad arguments and failures', () => {
  test('two targets, bad JSON, no transport: exit 2 naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--site', 's', '--event', 'e', '--room', 'r', '--user', 'u', '--redis', 'redis://x'],
        /one target only, not --room and --user/,
      ],
      [
        ['--site', 's', '--event', 'e', '--room', 'r', '--message', '{bad', '--redis', 'redis://x'],
        /--message is not JSON/,
      ],
      [['--site', 's', '--event', 'e', '--room', 'r'], /give one transport/],
      [['--event', 'e', '--room', 'r', '--redis', 'redis://x'], /--site is required/],
    ];
    for (const [args, pattern] of cases) {
      const proc = runHerald(['publish', ...args]);
      assert.equal(await proc.exited, 2, args.join(' '));
      assert.match(proc.output(), pattern);
    }
  });

  test('an unreachable Redis: exit 1 with the coded error', async () => {
    const proc = runHerald([
      'publish',
      '--site',
      's',
      '--event',
      'e',
      '--room',
      'r',
      '--redis',
      'redis://127.0.0.1:9',
    ]);
    assert.equal(await proc.exited, 1);
    assert.match(proc.output(), /HERALD_PUBLISH_REDIS_UNAVAILABLE/);
  });
});

describe('the HTTP publish API: off and key files', () => {
  test('without keys it answers 404 saying how to turn it on', async () => {
    const stack = await startStack();
    try {
      const answer = await post(`${stack.herald.url}/api/v1/publish`, {
        site: SITE1,
        event: 'x',
        room: 'all',
      });
      assert.equal(answer.status, 404);
      assert.match(answer.body.error.hint, /--api-key/);
    } finally {
      await stack.close();
    }
  });

  test('keys from a key file work', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'herald-keys-')), 'keys');
    writeFileSync(file, `# publish keys\n${KEY}\n`);
    const stack = await startStack({ config: { apiKeyFile: file } });
    try {
      assert.equal(
        (await post(`${stack.herald.url}/api/v1/publish`, { site: SITE1, event: 'x', room: 'all' }))
          .status,
        202,
      );
    } finally {
      await stack.close();
    }
  });
});
