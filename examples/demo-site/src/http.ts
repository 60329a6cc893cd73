import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers with JSON. */
export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(JSON.stringify(body));
}

/** A Frappe-style error answer. */
export function error(res: ServerResponse, status: number, excType: string, message: string): void {
  json(res, status, { exc_type: excType, message });
}

/** Reads a JSON or form body, at most 64 KiB. */
export function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 64 * 1024) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text === '') return resolve({});
      try {
        if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
          resolve(Object.fromEntries(new URLSearchParams(text)));
        } else {
          const value: unknown = JSON.parse(text);
          resolve(
            typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {},
          );
        }
      } catch {
        reject(new Error('the body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}
