import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@herald/testkit';
import { createClient } from 'redis';
import { SITE1 } from './helpers/fixtures.js';
import { type Stack, startStack } from './helpers/stack.js';

type Answer = { ok: boolean; error?: { code: string; message: string } };

describe('open_in_editor (developer mode only)', () => {
  let stack: Stack;
  let subscriber: ReturnType<typeof createClient>;
  const seen: string[] = [];
  before(async () => {
    stack = await startStack({ redis: true, config: { developerMode: true } });
    subscriber = createClient({ url: stack.redis!.url });
    await subscriber.connect();
    await subscriber.subscribe('open_in_editor', (message) => seen.push(message));
    await waitFor(() => stack.herald.broker.status().ready, { what: 'Herald ready' });
  });
  after(async () => {
    await subscriber.quit();
    await stack.close();
  });

  test('a signed-in user publishes the request on the open_in_editor channel', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const answer = (await alice
      .timeout(10_000)
      .emitWithAck('open_in_editor', { file: 'app.js', line: 3, column: 7 })) as Answer;
    assert.deepEqual(answer, { ok: true });
    await waitFor(() => seen.length === 1, { what: 'the open_in_editor message' });
    assert.deepEqual(JSON.parse(seen[0]!), { file: 'app.js', line: 3, column: 7 });
    alice.disconnect();
  });

  test('Guest may not', async () => {
    const guest = await stack.connect({ site: SITE1, sid: 'Guest' });
    const answer = (await guest
      .timeout(10_000)
      .emitWithAck('open_in_editor', { file: 'x.js' })) as Answer;
    assert.equal(answer.error?.code, 'HERALD_PERMISSION_DENIED');
    guest.disconnect();
  });

  test('outside developer mode it is refused', async () => {
    const plain = await startStack({ config: { developerMode: false } });
    try {
      const alice = await plain.connect({ site: SITE1, sid: 'sid-alice' });
      const answer = (await alice
        .timeout(10_000)
        .emitWithAck('open_in_editor', { file: 'x.js' })) as Answer;
      assert.equal(answer.error?.code, 'HERALD_DEVELOPER_MODE_ONLY');
      assert.match(answer.error!.message, /developer mode/);
      alice.disconnect();
    } finally {
      await plain.close();
    }
  });
});
