import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { sendHttp } from '../src/auth/http-client.js';

/**
 * A web server that answers the first request of each connection and keeps the connection open,
 * then resets the connection on its second request: what a reused keep-alive connection meets
 * when the web server closed it (gunicorn closes idle ones after 2 s) as it was reused.
 */
function resettingServer() {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let served = 0;
    socket.on('data', (chunk) => {
      const line = chunk.toString().split('\r\n')[0]!;
      requests.push(line);
      served += 1;
      if (served === 1) {
        socket.write(
          'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n' +
            'Connection: keep-alive\r\n\r\n{"message":true}',
        );
      } else {
        socket.resetAndDestroy();
      }
    });
    socket.on('error', () => undefined);
  });
  return { server, requests, sockets };
}

async function listen(server: ReturnType<typeof createServer>): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

async function stop(web: { server: ReturnType<typeof createServer>; sockets: Set<Socket> }) {
  for (const socket of web.sockets) socket.destroy();
  await new Promise((resolve) => web.server.close(resolve));
}

describe('backchannel HTTP client', () => {
  test('a GET on a kept-alive connection the server reset is sent again on a new one', async () => {
    const web = resettingServer();
    const base = await listen(web.server);
    try {
      const options = { method: 'GET' as const, headers: {}, timeoutMs: 5_000 };
      const first = await sendHttp(`${base}/a`, options);
      assert.equal(first.status, 200);
      // The second request reuses the kept-alive connection, which the server resets.
      const second = await sendHttp(`${base}/b`, options);
      assert.equal(second.status, 200);
      assert.equal(second.text, '{"message":true}');
      assert.deepEqual(web.requests, ['GET /a HTTP/1.1', 'GET /b HTTP/1.1', 'GET /b HTTP/1.1']);
    } finally {
      await stop(web);
    }
  });

  test('a POST is not sent twice: the reset is the caller’s error', async () => {
    const web = resettingServer();
    const base = await listen(web.server);
    try {
      const options = { method: 'POST' as const, headers: {}, body: '{}', timeoutMs: 5_000 };
      await sendHttp(`${base}/c`, options);
      await assert.rejects(sendHttp(`${base}/d`, options), { code: 'ECONNRESET' });
      assert.deepEqual(web.requests, ['POST /c HTTP/1.1', 'POST /d HTTP/1.1']);
    } finally {
      await stop(web);
    }
  });

  test('no answer in time rejects with a TimeoutError', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    const base = await listen(server);
    try {
      await assert.rejects(
        sendHttp(`${base}/slow`, { method: 'GET', headers: {}, timeoutMs: 200 }),
        { name: 'TimeoutError' },
      );
    } finally {
      await stop({ server, sockets });
    }
  });
});
