// The baseline: a realtime server written the upstream way, from the spec, for comparison.
// Default Socket.IO options, one get_user_info per connect and one has_permission per subscribe
// (no cache), viewers found by scanning every socket of the namespace, one process, Redis events.
import { createServer } from 'node:http';
import { createClient } from 'redis';
import { Server, type Socket } from 'socket.io';

const [port, backend, redisUrl] = [Number(process.argv[2]), process.argv[3]!, process.argv[4]!];
const http = createServer((req, res) => {
  if (req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ heapUsed: process.memoryUsage().heapUsed, done, failed }));
    return;
  }
  res.writeHead(404);
  res.end();
});
const io = new Server(http, {
  cors: { origin: true, credentials: true },
  cleanupEmptyChildNamespaces: true,
});
const realtime = io.of(/^\/.*$/);

/** Client requests fully handled (for the benchmark to know when the work is done). */
let done = 0;
/** Backend calls that failed (no answer from the web server), for the benchmark to report. */
let failed = 0;

type S = Socket & { user?: string; sid?: string; openDocs?: string[] };
const frappe = (socket: S, path: string) =>
  fetch(`${backend}${path}`, {
    headers: { cookie: `sid=${socket.sid}`, 'x-frappe-site-name': socket.nsp.name.slice(1) },
  });

realtime.use((socket: S, next) => {
  socket.sid = /sid=([^;]+)/.exec(socket.request.headers.cookie ?? '')?.[1];
  frappe(socket, '/api/method/frappe.realtime.get_user_info')
    .then((res) => res.json() as Promise<{ message: { user: string } }>)
    .then(({ message }) => {
      socket.user = message.user;
      next();
    })
    .catch((error) => next(new Error(`Unauthorized: ${error}`)));
});

const can = (socket: S, doctype: string, name = '') =>
  frappe(
    socket,
    `/api/method/frappe.realtime.has_permission?doctype=${encodeURIComponent(doctype)}&name=${encodeURIComponent(name)}`,
  )
    .then(async (res) => res.ok && ((await res.json()) as { message: boolean }).message === true)
    // As upstream's HTTP client reports it: a failed check is a refusal, not a crash.
    .catch(() => {
      failed += 1;
      return false;
    });

function notify(socket: S, doctype: string, docname: string) {
  const room = `open_doc:${doctype}/${docname}`;
  const clients = Array.from(socket.nsp.adapter.rooms.get(room) ?? []);
  const users: string[] = [];
  // Upstream scans every socket of the namespace.
  socket.nsp.sockets.forEach((other: S) => {
    if (clients.includes(other.id)) users.push(other.user!);
  });
  if (users.length === 1 && users[0] === socket.user) return;
  socket.nsp.to(room).emit('doc_viewers', { doctype, docname, users: Array.from(new Set(users)) });
}

realtime.on('connection', (socket: S) => {
  socket.join(`user:${socket.user}`);
  socket.join('website');
  socket.join('all');
  socket.openDocs = [];
  socket.on('ping', () => socket.emit('pong'));
  socket.on('doctype_subscribe', (doctype: string) => {
    can(socket, doctype).then((ok) => {
      if (ok) socket.join(`doctype:${doctype}`);
      done += 1;
    });
  });
  socket.on('doc_subscribe', (doctype: string, docname: string) => {
    can(socket, doctype, docname).then((ok) => {
      if (ok) socket.join(`doc:${doctype}/${docname}`);
      done += 1;
    });
  });
  // Upstream answers nothing; the benchmark's churn asks for an answer (the callback) to both
  // servers alike, so each socket closes its document only after its open was handled.
  socket.on('doc_open', (doctype: string, docname: string, answer?: () => void) => {
    can(socket, doctype, docname).then((ok) => {
      if (ok) {
        socket.join(`open_doc:${doctype}/${docname}`);
        socket.openDocs!.push(`${doctype}\0${docname}`);
        notify(socket, doctype, docname);
      }
      done += 1;
      if (typeof answer === 'function') answer();
    });
  });
  socket.on('doc_close', (doctype: string, docname: string, answer?: () => void) => {
    socket.leave(`open_doc:${doctype}/${docname}`);
    socket.openDocs = socket.openDocs!.filter((d) => d !== `${doctype}\0${docname}`);
    notify(socket, doctype, docname);
    done += 1;
    if (typeof answer === 'function') answer();
  });
  socket.on('disconnect', () => {
    for (const doc of socket.openDocs!) {
      const [doctype, docname] = doc.split('\0') as [string, string];
      notify(socket, doctype, docname);
    }
  });
});

const subscriber = createClient({ url: redisUrl });
subscriber.on('error', () => undefined);
await subscriber.connect();
await subscriber.subscribe('events', (raw) => {
  const message = JSON.parse(raw) as {
    event: string;
    message: unknown;
    room?: string;
    namespace: string;
  };
  if (message.room)
    io.of(`/${message.namespace}`).to(message.room).emit(message.event, message.message);
  else realtime.emit(message.event, message.message);
});
http.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
