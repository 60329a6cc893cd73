import type { IncomingMessage, ServerResponse } from 'node:http';
import { type EventMessage, resolvePublish } from '@herald/protocol';
import { z } from 'zod';
import { HeraldError } from '../errors.js';
import type { HttpRoute } from '../server.js';
import { bearerToken, pathOf, sameSecret, sendError, sendJson } from './respond.js';

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

/** HERALD_PUBLISH_INVALID, with each bad field (sent as `fields` beside the message). */
class InvalidMessage extends HeraldError {
  constructor(
    message: string,
    readonly fields: { path: string; message: string }[],
  ) {
    super('HERALD_PUBLISH_INVALID', message);
  }
}

/** Reads the body, refusing it as soon as it passes `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    const tooLarge = () =>
      new HeraldError('HERALD_PUBLISH_TOO_LARGE', `the body is larger than ${limit} bytes`);
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
        error instanceof HeraldError
          ? error
          : new HeraldError(
              'HERALD_PUBLISH_UNAVAILABLE',
              `the message could not be published: ${(error as Error).message}`,
              { cause: error },
            );
      if (!res.headersSent) {
        sendError(
          res,
          failure,
          failure instanceof InvalidMessage ? { fields: failure.fields } : {},
        );
      }
    });
    return true;
  };

  async function handle(req: IncomingMessage, res: ServerResponse, batch: boolean): Promise<void> {
    if (options.apiKeys.length === 0) {
      throw new HeraldError('HERALD_PUBLISH_API_OFF');
    }
    if (req.method !== 'POST')
      throw new HeraldError('HERALD_METHOD_NOT_ALLOWED', `use POST, not ${req.method}`);
    const token = bearerToken(req);
    if (!token || !options.apiKeys.some((key) => sameSecret(token, key))) {
      req.resume();
      throw new HeraldError(
        'HERALD_PUBLISH_UNAUTHORIZED',
        token ? 'wrong API key' : 'missing API key',
      );
    }
    const text = await readBody(req, options.maxMessageBytes);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new HeraldError(
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
      throw new InvalidMessage(
        `invalid message: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`,
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
