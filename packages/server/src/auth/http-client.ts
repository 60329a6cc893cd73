import http from 'node:http';
import https from 'node:https';

/** An HTTP answer, read whole. */
export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** Thrown when no complete answer arrived within the time given. */
export class HttpTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * Keep-alive connections to the web server, at most 64 per host: a burst of subscribes reuses
 * them instead of opening a connection per call, and never opens thousands at once.
 */
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

/**
 * One HTTP request on the keep-alive agents; redirects are not followed. Node's `http` costs about
 * a third of the CPU of `fetch` per call (measured on these machines: 86 against 293 µs, client
 * and server together), which counts when every connect and subscribe may ask the web server.
 */
export async function sendHttp(url: string, options: HttpOptions): Promise<HttpAnswer> {
  try {
    return await sendOnce(url, options);
  } catch (error) {
    // A kept-alive connection the web server closed just as it was reused (gunicorn closes idle
    // ones after 2 s): the request never reached it, and a GET is safe to send again, once.
    if ((error as StaleConnection).staleConnection && options.method === 'GET')
      return sendOnce(url, options);
    throw error;
  }
}

interface HttpOptions {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}
type StaleConnection = Error & { staleConnection?: boolean };

function sendOnce(url: string, options: HttpOptions): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const agent = agents[target.protocol as keyof typeof agents];
    const request = client.request(
      target,
      {
        method: options.method,
        headers:
          options.body === undefined
            ? options.headers
            : { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
        agent,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text });
        });
        response.on('error', fail);
      },
    );
    function fail(error: StaleConnection & { code?: string }) {
      clearTimeout(timer);
      if (request.reusedSocket && error.code === 'ECONNRESET') error.staleConnection = true;
      reject(error);
    }
    const timer = setTimeout(
      () => request.destroy(new HttpTimeoutError(`no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    request.on('error', fail);
    request.end(options.body);
  });
}
