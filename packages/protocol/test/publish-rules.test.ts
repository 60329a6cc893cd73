import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_EVENT_DEPTH,
  type PublishArgs,
  type PublishContext,
  parseEventMessage,
  publishHelpers,
  resolveProgress,
  resolvePublish,
  utf8Length,
} from '@herald/protocol';
import { publishArgsOf as argsOf, loadVectors, parseHelperCall } from '@herald/testkit';

interface Context {
  site: string;
  session_user?: string;
  job_task_id?: string;
}
interface PublishVectors {
  cases: {
    name: string;
    context: Context;
    call: Record<string, unknown>;
    expect: Record<string, unknown>;
  }[];
  progress: {
    name: string;
    context: Context;
    call: Record<string, unknown>;
    expect: Record<string, unknown>;
  }[];
  helpers: { call: string; room: string; event: string }[];
}

const vectors = loadVectors<PublishVectors>('publish-rules.json');

const contextOf = (c: Context): PublishContext => ({
  site: c.site,
  sessionUser: c.session_user,
  jobTaskId: c.job_task_id,
});

describe('publish_realtime rules', () => {
  for (const v of vectors.cases) {
    test(v.name, () => {
      const resolved = resolvePublish(argsOf(v.call), contextOf(v.context));
      if (v.expect.queued) {
        assert.equal(resolved.afterCommit, true);
        assert.deepEqual(resolved.message, v.expect.on_commit);
      } else {
        assert.equal(resolved.afterCommit, false);
        assert.deepEqual(resolved.message, v.expect);
      }
    });
  }
});

describe('publish_progress rules', () => {
  for (const v of vectors.progress) {
    test(v.name, () => {
      const call = v.call;
      const resolved = resolveProgress(
        {
          percent: call.percent as number,
          title: call.title as string | undefined,
          description: call.description as string | undefined,
          doctype: call.doctype as string | undefined,
          docname: call.docname as string | undefined,
          taskId: call.task_id as string | undefined,
        },
        contextOf(v.context),
      );
      assert.deepEqual(resolved.message, v.expect);
    });
  }
});

const helperByPythonName: Record<string, (...args: never[]) => PublishArgs> = {
  publish_to_user: publishHelpers.toUser,
  publish_to_doc: publishHelpers.toDoc,
  publish_to_doctype: publishHelpers.toDoctype,
  publish_task_progress: publishHelpers.taskProgress,
  publish_to_website: publishHelpers.toWebsite,
  publish_to_all: publishHelpers.toAll,
  publish_to_room: publishHelpers.toRoom,
};

describe('publish helpers', () => {
  for (const v of vectors.helpers) {
    test(v.call, () => {
      const { name, args } = parseHelperCall(v.call);
      const helper = helperByPythonName[name];
      assert.ok(helper, `no helper for ${name}`);
      const resolved = resolvePublish(helper(...(args as never[])), {
        site: 's1',
        sessionUser: 'bob',
      });
      assert.equal(resolved.message.room, v.room);
      assert.equal(resolved.message.event, v.event);
    });
  }
});

describe('parsing messages of the events channel', () => {
  test('the field report message, written by Python with indent=1', () => {
    const raw =
      '{\n "event": "msgprint",\n "message": {\n  "message": "Hello!"\n },\n "namespace": "staging.erpnext.summitindustech.com",\n "room": "user:Administrator"\n}';
    assert.deepEqual(parseEventMessage(raw), {
      ok: true,
      message: {
        event: 'msgprint',
        message: { message: 'Hello!' },
        room: 'user:Administrator',
        namespace: 'staging.erpnext.summitindustech.com',
      },
    });
  });

  const bad: [string, string][] = [
    ['{not json', 'malformed_json'],
    ['[1,2]', 'not_an_object'],
    ['{"message": 1, "room": "all", "namespace": "s"}', 'missing_event'],
    ['{"event": "x", "room": 5, "namespace": "s"}', 'bad_room'],
    ['{"event": "x", "room": "all"}', 'missing_namespace'],
  ];
  for (const [raw, kind] of bad) {
    test(`${kind}: ${raw}`, () => {
      const parsed = parseEventMessage(raw);
      assert.equal(parsed.ok, false);
      assert.equal(!parsed.ok && parsed.kind, kind);
    });
  }

  const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  test('a message nested too deeply to be encoded again is too_deep; up to the limit is fine', () => {
    const deep = `{"event": "x", "room": "all", "namespace": "s", "message": ${nested(5000)}}`;
    const parsed = parseEventMessage(deep);
    assert.equal(!parsed.ok && parsed.kind, 'too_deep');
    // The message object itself is one level: MAX_EVENT_DEPTH - 1 levels fit inside it.
    const fits = `{"event": "x", "room": "all", "namespace": "s", "message": ${nested(MAX_EVENT_DEPTH - 1)}}`;
    assert.ok(parseEventMessage(fits).ok);
    const over = `{"event": "x", "room": "all", "namespace": "s", "message": ${nested(MAX_EVENT_DEPTH)}}`;
    assert.equal(parseEventMessage(over).ok, false);
    const arrays = `{"event": "x", "room": "all", "namespace": "s", "message": ${'['.repeat(100)}${']'.repeat(100)}}`;
    assert.equal(
      !parseEventMessage(arrays).ok && (parseEventMessage(arrays) as { kind: string }).kind,
      'too_deep',
    );
  });

  test('a message over maxBytes (counted in UTF-8) is too_large', () => {
    const raw = JSON.stringify({
      event: 'x',
      room: 'all',
      namespace: 's',
      message: 'é'.repeat(600),
    });
    assert.ok(parseEventMessage(raw, { maxBytes: 1300 }).ok);
    const parsed = parseEventMessage(raw, { maxBytes: 1200 });
    assert.equal(!parsed.ok && parsed.kind, 'too_large');
    assert.match(!parsed.ok ? parsed.reason : '', /bytes, over the limit of 1200/);
    assert.equal(utf8Length('aé€😀'), 1 + 2 + 3 + 4);
  });

  test('no room means every namespace, and the namespace may be absent', () => {
    const parsed = parseEventMessage('{"event": "build_event", "message": {"success": true}}');
    assert.ok(parsed.ok);
    assert.equal(parsed.message.room, null);
    assert.equal(parsed.message.namespace, undefined);
  });
});
