import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PublishArgs } from '@herald/protocol';

/** The spec's test vectors: `../shared/spec/vectors` beside the repository, or HERALD_SPEC_DIR. */
export function loadVectors<T>(name: string): T {
  const dir =
    process.env.HERALD_SPEC_DIR ??
    fileURLToPath(new URL('../../../../shared/spec/vectors/', import.meta.url));
  return JSON.parse(readFileSync(`${dir.replace(/\/$/, '')}/${name}`, 'utf8')) as T;
}

/** publish_realtime's arguments as the vectors spell them (Python), in TypeScript spelling. */
export const publishArgsOf = (call: Record<string, unknown>): PublishArgs => ({
  event: call.event as string | undefined,
  message: call.message,
  room: call.room as string | undefined,
  user: call.user as string | undefined,
  doctype: call.doctype as string | undefined,
  docname: call.docname as string | number | undefined,
  taskId: call.task_id as string | undefined,
  afterCommit: call.after_commit as boolean | undefined,
});

/** Reads a helper call as the vectors write it: `publish_to_user('alice', 'ev', {'a': 1})`. */
export function parseHelperCall(text: string): { name: string; args: unknown[] } {
  const match = /^(\w+)\((.*)\)$/s.exec(text.trim());
  if (!match) throw new Error(`cannot read the helper call ${text}`);
  const json = `[${match[2]!
    .replace(/'/g, '"')
    .replace(/\bNone\b/g, 'null')
    .replace(/\bTrue\b/g, 'true')
    .replace(/\bFalse\b/g, 'false')}]`;
  return { name: match[1]!, args: JSON.parse(json) as unknown[] };
}
