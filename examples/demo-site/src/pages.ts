import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const PUBLIC = fileURLToPath(new URL('../public/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};
/** The desk's URLs, each served by one page that reads the rest of the path itself. */
const PAGES: [RegExp, string][] = [
  [/^\/login\/?$/, 'login.html'],
  [/^\/app\/todo\/?$/, 'list.html'],
  [/^\/app\/todo\/[^/]+$/, 'form.html'],
  [/^\/me\/?$/, 'me.html'],
];

async function sendFile(res: ServerResponse, file: string): Promise<void> {
  try {
    const content = await readFile(file);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
    res.end(content);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  }
}

/**
 * The demo's pages and assets from `public/`, and the Herald client's `<script>` build at
 * `/assets/herald-client.min.js` (false: not one of them). Pages are served at their desk URLs
 * only, never as `/assets/*.html`, and nothing outside `public/` is reachable.
 */
export function createPages(
  clientBundle: string,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = new URL(req.url ?? '/', 'http://demo').pathname;
    if (path === '/') {
      res.writeHead(302, { location: '/app/todo' });
      res.end();
      return true;
    }
    if (path === '/assets/herald-client.min.js') {
      void sendFile(res, clientBundle);
      return true;
    }
    if (path.startsWith('/assets/')) {
      const file = resolve(PUBLIC, `.${path.slice('/assets'.length)}`);
      if (!file.startsWith(PUBLIC.endsWith(sep) ? PUBLIC : PUBLIC + sep) || file.endsWith('.html'))
        return false;
      void sendFile(res, file);
      return true;
    }
    const page = PAGES.find(([pattern]) => pattern.test(path));
    if (!page) return false;
    void sendFile(res, join(PUBLIC, page[1]));
    return true;
  };
}
