// The floor of a websocket connect on this machine: `ws` on Node's HTTP server, and just enough of
// Engine.IO v4 / Socket.IO v5 for the load generator to count a socket connected (the open packet,
// the namespace's CONNECT answer, an empty answer to any acknowledged event). No Engine.IO, no
// Socket.IO, no checks, no rooms: what any Socket.IO server, Herald and the baseline alike, does
// on top of this is the price of the protocol. A reference for the connect storm, not a server.
//   node --import tsx bench/floor/server.ts <port>
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false });
const id = () => randomBytes(15).toString('base64url');

wss.on('connection', (ws) => {
  ws.send(
    `0{"sid":"${id()}","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
  );
  ws.on('message', (data) => {
    const text = data.toString();
    if (text.startsWith('40')) {
      // CONNECT to a namespace ("40/site,"): answered with a socket id.
      ws.send(`${text}{"sid":"${id()}"}`);
      return;
    }
    // An acknowledged EVENT ("42/site,<id>[...]"): an empty answer.
    const ack = /^42(\/[^,]*,)?(\d+)\[/.exec(text);
    if (ack) ws.send(`43${ack[1] ?? ''}${ack[2]}[]`);
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as { port: number }).port}`);
});
