import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A node id when none is given: readable in logs and /admin, and unique (`<host>-<pid>-<hex>`). */
export function defaultNodeId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 60) || 'node';
  return `${host}-${process.pid}-${randomBytes(2).toString('hex')}`;
}
