import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { instrument } from '@socket.io/admin-ui';
import bcrypt from 'bcryptjs';
import type { Server } from 'socket.io';
import { ADMIN_NAMESPACE } from '../namespaces.js';
import type { HttpRoute } from '../server.js';
import type { HeraldIo } from '../session.js';
import { sameSecret } from './respond.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** Whether a request carries HTTP Basic credentials `admin:<token>`. */
function basicAuthOk(header: string | undefined, token: string): boolean {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const [user, ...rest] = Buffer.from(match[1]!, 'base64').toString('utf8').split(':');
  return user === 'admin' && sameSecret(rest.join(':'), token);
}

/**
 * The official Socket.IO Admin UI: the server is instrumented on the namespace `/herald-admin`
 * (login `admin`, password the admin token), and the UI's files are served at `/admin-ui/` behind
 * the same credentials.
 */
export function adminUi(io: HeraldIo, token: string): HttpRoute {
  instrument(io as unknown as Server, {
    namespaceName: ADMIN_NAMESPACE,
    auth: { type: 'basic', username: 'admin', password: bcrypt.hashSync(token, 10) },
    mode: 'production',
    readonly: true,
  });
  const root = join(
    dirname(createRequire(import.meta.url).resolve('@socket.io/admin-ui/package.json')),
    'ui',
    'dist',
  );
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://herald').pathname;
    if (path !== '/admin-ui' && !path.startsWith('/admin-ui/')) return false;
    if (!basicAuthOk(req.headers.authorization, token)) {
      res.writeHead(401, {
        'www-authenticate': 'Basic realm="Herald admin", charset="UTF-8"',
        'content-type': 'text/plain',
      });
      res.end('Herald admin UI: log in as admin with the --admin-token value\n');
      return true;
    }
    if (path === '/admin-ui') {
      res.writeHead(301, { location: '/admin-ui/' });
      res.end();
      return true;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(path.slice('/admin-ui/'.length)) || 'index.html';
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('the URL has a malformed %-escape\n');
      return true;
    }
    const file = resolve(root, relative);
    if (!file.startsWith(root + sep)) {
      res.writeHead(404);
      res.end();
      return true;
    }
    readFile(file).then(
      (content) => {
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
        res.end(content);
      },
      () => {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
      },
    );
    return true;
  };
}
