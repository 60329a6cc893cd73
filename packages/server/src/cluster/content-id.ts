import { createHash } from 'node:crypto';

/**
 * The content id of an `events` message: the first 16 characters of the base64url SHA-1 of its
 * raw text (96 bits). Every node computes the same id for the same message, which is how a node
 * taking over the ingest lease tells what the stream already has.
 */
export function contentId(raw: string): string {
  return createHash('sha1').update(raw).digest('base64url').slice(0, 16);
}
