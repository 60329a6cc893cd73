import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeraldError } from '../errors.js';

/** Answers with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(text);
}

/**
 * Answers with an error of the catalogue: its code's status and `{error: {code, message, hint}}`,
 * with `extra` fields beside them (e.g. the publish API's `fields`).
 */
export function sendError(
  res: ServerResponse,
  error: HeraldError,
  extra: Record<string, unknown> = {},
): void {
  sendJson(res, error.status, { error: { ...error.toBody(), ...extra } });
}

/** The path of a request, without its query. */
export const pathOf = (req: IncomingMessage): string =>
  new URL(req.url ?? '/', 'http://herald').pathname;

/** Compares a presented secret with the expected one in constant time. */
export function sameSecret(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1]?.trim();
}
