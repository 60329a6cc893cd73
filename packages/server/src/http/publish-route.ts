import type { IncomingMessage, ServerResponse } from 'node:http';
import { type EventMessage, resolvePublish } from '@herald/protocol';
import { z } from 'zod';
import type { HttpRoute } from '../server.js';
import { bearerToken, pathOf, sameSecret, sendJson } from './respond.js';

const name = z.string().min(1).max(1000);
/** One message: the wire form `{site, event, message, room}`, or publish_realtime's arguments. */
const messageSchema = z.strictObject({
  site: name,
  event: name.optional(),
  message: z.unknown().optional(),
  room: name.nullable().optional(),
  user: name.optional(),
  doctype: name.optional(),
  docname: z.union([name, z.number()]).optional(),
  taskId: name.optional(),
});
const batchSchema = z.strictObject({ messages: z.array(messageSchema).min(1).max(1000) });

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly fields?: { path: string; message: string }[],
  ) {
    super(message);
  }
}

/** Reads the body, refusing it as soon as it passes `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    const tooLarge = () =>
      new HttpFailure(
        413,
        'HERALD_PUBLISH_TOO_LARGE',
        `the body is larger than ${limit} bytes`,
        'send smaller messages, or raise --max-message-bytes',
      );
    if (declared > limit) {
      req.resume();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function toEventMessage(input: z.infer<typeof messageSchema>): EventMessage {
  return resolvePublish(
    {
      event: input.event,
      message: input.message,
      room: input.room ?? undefined,
      user: input.user,
      doctype: input.doctype,
      docname: input.docname,
      taskId: input.taskId,
    },
    { site: input.site },
  ).message;
}

/**
 * The HTTP publish API: `POST /api/v1/publish` (one message) and `POST /api/v1/publish/batch`
 * (`{messages: [...]}`, at most 1000), with a Bearer API key. Off (404) without keys.
 */
export function publishRoute(options: {
  apiKeys: readonly string[];
  maxMessageBytes: number;
  publish: (messages: EventMessage[]) => Promise<void>;
}): HttpRoute {
  return (req, res) => {
    const path = pathOf(req);
    if (path !== '/api/v1/publish' && path !== '/api/v1/publish/batch') return false;
    void handle(req, res, path === '/api/v1/publish/batch').catch((error: unknown) => {
      const failure =
        error instanceof HttpFailure
          ? error
          : new HttpFailure(
              503,
              'HERALD_PUBLISH_UNAVAILABLE',
              `the message could not be published: ${(error as Error).message}`,
              'check Redis (--redis)',
            );
      if (!res.headersSent) {
        sendJson(res, failure.status, {
          error: {
            code: failure.code,
            message: failure.message,
            hint: failure.hint,
            fields: failure.fields,
          },
        });
      }
    });
    return true;
  };

  async function handle(req: IncomingMessage, res: ServerResponse, batch: boolean): Promise<void> {
    if (options.apiKeys.length === 0) {
      throw new HttpFailure(
        404,
        'HERALD_PUBLISH_API_OFF',
        'the HTTP publish API is off',
        'start Herald with --api-key <key> (or --api-key-file)',
      );
    }
    if (req.method !== 'POST')
      throw new HttpFailure(405, 'HERALD_METHOD_NOT_ALLOWED', `use POST, not ${req.method}`);
    const token = bearerToken(req);
    if (!token || !options.apiKeys.some((key) => sameSecret(token, key))) {
      req.resume();
      throw new HttpFailure(
        401,
        'HERALD_PUBLISH_UNAUTHORIZED',
        token ? 'wrong API key' : 'missing API key',
        'send Authorization: Bearer <one of the --api-key values>',
      );
    }
    const text = await readBody(req, options.maxMessageBytes);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new HttpFailure(
        400,
        'HERALD_PUBLISH_BAD_JSON',
        `the body is not JSON: ${(error as Error).message}`,
      );
    }
    const parsed = (batch ? batchSchema : messageSchema).safeParse(body);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.') || '(body)',
        message:
          issue.code === 'unrecognized_keys'
            ? `unknown field(s) ${issue.keys.join(', ')}`
            : issue.message,
      }));
      throw new HttpFailure(
        400,
        'HERALD_PUBLISH_INVALID',
        `invalid message: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`,
        undefined,
        fields,
      );
    }
    const inputs = batch
      ? (parsed.data as z.infer<typeof batchSchema>).messages
      : [parsed.data as z.infer<typeof messageSchema>];
    await options.publish(inputs.map(toEventMessage));
    sendJson(res, 202, { accepted: inputs.length });
  }
}
