// A web backend for benchmarks: every sid `user-N` is System User `user-N`, every read is allowed,
// each call waits `--delay` ms (default 2) and is counted. GET /counts answers the counts.
import { createServer } from 'node:http';

const delay = Number(process.argv[2] ?? 2);
const counts = { get_user_info: 0, has_permission: 0 };
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://stub');
  if (url.pathname === '/counts') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(counts));
    return;
  }
  const answer = (body: unknown) =>
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    }, delay);
  if (url.pathname.endsWith('get_user_info')) {
    counts.get_user_info += 1;
    const user = /sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? 'Guest';
    answer({ message: { user, user_type: 'System User', installed_apps: ['frappe'] } });
  } else if (url.pathname.endsWith('has_permission')) {
    counts.has_permission += 1;
    answer({ message: true });
  } else {
    res.writeHead(404);
    res.end();
  }
});
// A long accept queue: the baseline opens a connection per call, thousands at once in a storm, and
// a connection the stub's queue drops is a failed call that the baseline counts as a quick denial.
server.listen({ port: Number(process.argv[3] ?? 0), host: '127.0.0.1', backlog: 4096 }, () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : ''}\n`);
});
