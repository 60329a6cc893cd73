/**
 * The checks of a bench's `config/nginx.conf` (what `bench setup nginx` writes): every server's
 * `location /socket.io` must pass the websocket upgrade and the site's name to the realtime
 * server, and point at the port it listens on.
 */
import type { Finding } from './finding.js';

/** A directive (`proxy_pass http://x;`) or a block (`location /socket.io { ... }`). */
export interface NginxNode {
  name: string;
  args: string[];
  children?: NginxNode[];
}

/** nginx's configuration as a tree; comments dropped, quotes removed. */
export function parseNginx(text: string): NginxNode[] {
  const tokens: string[] = [];
  const pattern = /#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};"'#]+)/g;
  for (const match of text.matchAll(pattern)) {
    if (match[0].startsWith('#')) continue;
    tokens.push(match[1] ?? match[2] ?? match[3] ?? match[4]!);
  }
  let at = 0;
  const parseBlock = (): NginxNode[] => {
    const nodes: NginxNode[] = [];
    let words: string[] = [];
    while (at < tokens.length) {
      const token = tokens[at++]!;
      if (token === ';') {
        if (words.length) nodes.push({ name: words[0]!, args: words.slice(1) });
        words = [];
      } else if (token === '{') {
        nodes.push({ name: words[0] ?? '', args: words.slice(1), children: parseBlock() });
        words = [];
      } else if (token === '}') {
        return nodes;
      } else {
        words.push(token);
      }
    }
    return nodes;
  };
  return parseBlock();
}

/** One `location /socket.io` block, with what nginx sends from it (inherited values included). */
export interface SocketioLocation {
  /** The server it belongs to, for messages: `site1.local` or `port 8001`. */
  server: string;
  /** `proxy_set_header` names (lower case) and values in effect. */
  headers: Record<string, string>;
  httpVersion: string | undefined;
  proxyPass: string | undefined;
  /** Where proxy_pass goes: host and port of each upstream server (a unix socket has no port). */
  targets: { host: string; port: number | undefined }[];
}

function directives(nodes: NginxNode[] | undefined, name: string): NginxNode[] {
  return (nodes ?? []).filter((node) => node.name === name && !node.children);
}

/** The `proxy_set_header`s in effect in a block: its own, else those of the closest parent. */
function headersOf(chain: NginxNode[][]): Record<string, string> {
  for (let i = chain.length - 1; i >= 0; i--) {
    const found = directives(chain[i], 'proxy_set_header');
    if (found.length) {
      return Object.fromEntries(
        found.map((node) => [node.args[0]!.toLowerCase(), node.args[1] ?? '']),
      );
    }
  }
  return {};
}

function inherited(chain: NginxNode[][], name: string): string | undefined {
  for (let i = chain.length - 1; i >= 0; i--) {
    const found = directives(chain[i], name).at(-1);
    if (found) return found.args[0];
  }
  return undefined;
}

function hostPort(address: string): { host: string; port: number | undefined } {
  if (address.startsWith('unix:')) return { host: address, port: undefined };
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(address);
  return { host: match?.[1] ?? address, port: match?.[2] ? Number(match[2]) : 80 };
}

/** Every server's `location /socket.io`, and the servers that have none. */
export function socketioLocations(text: string): {
  locations: SocketioLocation[];
  serversWithout: string[];
} {
  const root = parseNginx(text);
  const blocks = (nodes: NginxNode[], name: string): NginxNode[] =>
    nodes.flatMap((node) =>
      node.children ? (node.name === name ? [node] : blocks(node.children, name)) : [],
    );
  const upstreams = new Map(
    blocks(root, 'upstream').map((block) => [
      block.args[0] ?? '',
      directives(block.children, 'server').map((server) => hostPort(server.args[0] ?? '')),
    ]),
  );
  const http = blocks(root, 'http')[0]?.children ?? [];
  const locations: SocketioLocation[] = [];
  const serversWithout: string[] = [];
  for (const server of blocks(root, 'server')) {
    const names = directives(server.children, 'server_name').flatMap((node) => node.args);
    const listen = directives(server.children, 'listen')[0]?.args[0];
    const label = names.length ? names.join(' ') : `port ${listen ?? 80}`;
    const all = blocks(server.children ?? [], 'location');
    const own = all.filter((location) => location.args.some((arg) => arg.includes('socket.io')));
    if (all.length && !own.length) serversWithout.push(label);
    for (const location of own) {
      const chain = [http, server.children ?? [], location.children ?? []];
      const proxyPass = inherited([location.children ?? []], 'proxy_pass');
      let targets: SocketioLocation['targets'] = [];
      if (proxyPass) {
        const address = proxyPass.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
        targets = upstreams.get(address) ?? [hostPort(address)];
      }
      locations.push({
        server: label,
        headers: headersOf(chain),
        httpVersion: inherited(chain, 'proxy_http_version'),
        proxyPass,
        targets,
      });
    }
  }
  return { locations, serversWithout };
}

/** What the checks compare the file with. */
export interface NginxExpectations {
  /** The port Herald listens on (the bench's socketio_port, or Herald's own --port). */
  port: number;
  /** Where that port comes from, for messages (`socketio_port in sites/common_site_config.json`). */
  portSource: string;
}

const FILE = 'config/nginx.conf';
const REGENERATE = 'or run `bench setup nginx` and reload nginx (`sudo nginx -s reload`)';

/** Each fault of the /socket.io locations that breaks realtime, with its fix. */
export function checkNginx(text: string, expect: NginxExpectations): Finding[] {
  const { locations, serversWithout } = socketioLocations(text);
  const findings: Finding[] = serversWithout.map((server) => ({
    file: FILE,
    problem: `server ${server} has no location /socket.io: realtime requests reach the web server, which answers 404`,
    fix: `add the location /socket.io block of Herald's README ("Behind nginx") to that server, ${REGENERATE}`,
  }));
  for (const location of locations) {
    const where = `the location /socket.io of server ${location.server}`;
    const missing = (header: string, line: string, breaks: string) =>
      findings.push({
        file: FILE,
        problem: `${where} does not set ${header}: ${breaks}`,
        fix: `add \`${line}\` to that location, ${REGENERATE}`,
      });
    const upgrade = location.headers.upgrade;
    if (upgrade === undefined || !/^\$http_upgrade$/i.test(upgrade)) {
      missing(
        'the Upgrade header',
        'proxy_set_header Upgrade $http_upgrade;',
        'the websocket upgrade never reaches the realtime server, so every client falls back to long polling',
      );
    }
    const connection = location.headers.connection;
    if (connection === undefined || !/^(upgrade|\$\w+)$/i.test(connection)) {
      missing(
        'Connection "upgrade"',
        'proxy_set_header Connection "upgrade";',
        'nginx sends Connection: close, so the websocket upgrade fails and clients fall back to long polling',
      );
    }
    if (location.httpVersion !== '1.1') {
      findings.push({
        file: FILE,
        problem: `${where} speaks HTTP/${location.httpVersion ?? '1.0'} to the realtime server: a websocket needs HTTP/1.1`,
        fix: `add \`proxy_http_version 1.1;\` to that location, ${REGENERATE}`,
      });
    }
    if (location.headers.host === undefined) {
      missing(
        'the Host header',
        'proxy_set_header Host $host;',
        "nginx sends the upstream's name as Host, so the realtime server's Origin check refuses every browser (Invalid origin)",
      );
    }
    if (location.headers['x-frappe-site-name'] === undefined) {
      missing(
        'X-Frappe-Site-Name',
        'proxy_set_header X-Frappe-Site-Name $host;',
        "the realtime server takes the site from the host name, which fails (Invalid namespace) wherever a site's folder is not named after its domain: sites on ports, domain maps",
      );
    }
    if (!location.proxyPass) {
      findings.push({
        file: FILE,
        problem: `${where} has no proxy_pass: nothing forwards realtime requests`,
        fix: `add \`proxy_pass http://127.0.0.1:${expect.port};\` to that location, ${REGENERATE}`,
      });
    }
    for (const target of location.targets) {
      if (target.port !== undefined && target.port !== expect.port) {
        findings.push({
          file: FILE,
          problem: `${where} forwards to ${target.host}:${target.port}, but Herald listens on ${expect.port} (${expect.portSource}): every realtime request fails with 502`,
          fix: `point it at port ${expect.port} (the upstream's \`server 127.0.0.1:${expect.port}\`), ${REGENERATE}`,
        });
      }
    }
  }
  return findings;
}
