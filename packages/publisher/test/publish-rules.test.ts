import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPublisher, type Publisher } from '@herald/publisher';
import {
  publishArgsOf as argsOf,
  loadVectors,
  parseHelperCall,
  startRedis,
  type TestRedis,
} from '@herald/testkit';
import { subscribeEvents } from './helpers.js';

interface Case {
  name: string;
  context: { site: string; session_user?: string; job_task_id?: string };
  call: Record<string, unknown>;
  expect: Record<string, unknown>;
}
const vectors = loadVectors<{
  cases: Case[];
  progress: Case[];
  helpers: { call: string; room: string; event: string }[];
}>('publish-rules.json');

describe('the publish rules, through the publisher, as seen by SUBSCRIBE events on a real Redis', () => {
  let redis: TestRedis;
  let events: Awaited<ReturnType<typeof subscribeEvents>>;
  const publishers: Publisher[] = [];
  const publisherFor = (context: Case['context']) => {
    const publisher = createPublisher({ site: context.site, redis: redis.url });
    publishers.push(publisher);
    return publisher.withContext({ user: context.session_user, taskId: context.job_task_id });
  };
  before(async () => {
    redis = await startRedis();
    events = await subscribeEvents(redis.url);
  });
  after(async () => {
    for (const p of publishers) await p.close();
    await events.close();
    await redis.stop();
  });

  for (const v of vectors.cases) {
    test(v.name, async () => {
      const publisher = publisherFor(v.context);
      const before = events.seen.length;
      if (v.expect.queued) {
        const tx = publisher.transaction();
        await tx.publishRealtime(argsOf(v.call));
        // Nothing goes out before the commit: a marker published now arrives first.
        await publisher.publishToRoom('marker', 'marker', {});
        await tx.commit();
        await events.until(before + 2);
        assert.deepEqual(events.seen[before], {
          event: 'marker',
          message: {},
          room: 'marker',
          namespace: v.context.site,
        });
        assert.deepEqual(events.seen[before + 1], v.expect.on_commit);
      } else {
        await publisher.publishRealtime(argsOf(v.call));
        await events.until(before + 1);
        assert.deepEqual(events.seen[before], v.expect);
      }
    });
  }

  for (const v of vectors.progress) {
    test(`progress: ${v.name}`, async () => {
      const before = events.seen.length;
      const call = v.call;
      await publisherFor(v.context).publishProgress({
        percent: call.percent as number,
        title: call.title as string | undefined,
        description: call.description as string | undefined,
        doctype: call.doctype as string | undefined,
        docname: call.docname as string | undefined,
        taskId: call.task_id as string | undefined,
      });
      await events.until(before + 1);
      assert.deepEqual(events.seen[before], v.expect);
    });
  }

  const helper: Record<string, (p: Publisher, args: unknown[]) => Promise<unknown>> = {
    publish_to_user: (p, a) => p.publishToUser(a[0] as string, a[1] as string, a[2]),
    publish_to_doc: (p, a) => p.publishToDoc(a[0] as string, a[1] as string, a[2] as string, a[3]),
    publish_to_doctype: (p, a) => p.publishToDoctype(a[0] as string, a[1] as string, a[2]),
    publish_task_progress: (p, a) => p.publishTaskProgress(a[0] as string, a[1]),
    publish_to_website: (p, a) => p.publishToWebsite(a[0] as string, a[1]),
    publish_to_all: (p, a) => p.publishToAll(a[0] as string, a[1]),
    publish_to_room: (p, a) => p.publishToRoom(a[0] as string, a[1] as string, a[2]),
  };
  for (const v of vectors.helpers) {
    test(`helper: ${v.call}`, async () => {
      const { name, args } = parseHelperCall(v.call);
      const run = helper[name];
      assert.ok(run, `no helper for ${name}`);
      const before = events.seen.length;
      await run(publisherFor({ site: 's1', session_user: 'bob' }), args);
      await events.until(before + 1);
      assert.equal(events.seen[before]!.room, v.room);
      assert.equal(events.seen[before]!.event, v.event);
      assert.equal(events.seen[before]!.namespace, 's1');
    });
  }
});
