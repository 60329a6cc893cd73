import type { z } from 'zod';
import { type ConfigKey, configSchema } from './schema.js';

/** The default Redis of a Frappe bench, as upstream assumes it. */
export const BENCH_DEFAULT_REDIS = 'redis://127.0.0.1:11311';

/** Where a setting can come from, and what it means: the source of `--help` and the README. */
export interface SettingInfo {
  /** The flag, with its value placeholder. */
  flag: string;
  /** Environment variables, strongest first. */
  env: string[];
  /** The key in a Frappe bench's config.json / common_site_config.json. */
  bench?: string;
  /** Whether the flag takes several values. */
  list?: boolean;
  description: string;
  /** Words that explain the default, shown after the schema's value: `none (all interfaces)`. */
  defaultNote?: string;
}

/** A setting with its key. */
export interface Setting extends SettingInfo {
  key: ConfigKey;
}

/**
 * Every setting, keyed by the schema's keys (a missing or an extra key does not compile), in the
 * order of `--help` and the README. The default is the schema's (see `defaultText`).
 */
export const SETTINGS: Record<ConfigKey, SettingInfo> = {
  port: {
    flag: '--port <number>',
    env: ['HERALD_PORT', 'FRAPPE_SOCKETIO_PORT'],
    bench: 'socketio_port',
    description: 'TCP port to listen on',
  },
  host: {
    flag: '--host <address>',
    env: ['HERALD_HOST'],
    description: 'address to listen on',
    defaultNote: 'all interfaces',
  },
  uds: {
    flag: '--uds <path>',
    env: ['HERALD_UDS', 'FRAPPE_SOCKETIO_UDS'],
    bench: 'socketio_uds',
    description: 'listen on this unix socket instead of a port (a stale file is removed first)',
  },
  redis: {
    flag: '--redis <url>',
    env: ['HERALD_REDIS', 'FRAPPE_REDIS_QUEUE'],
    bench: 'redis_queue',
    description:
      'Redis for the `events` channel and socketio_auth_secret (redis://, rediss://, unix://)',
    defaultNote: `the in-memory broker; with --bench: ${BENCH_DEFAULT_REDIS}`,
  },
  backend: {
    flag: '--backend <url>',
    env: ['HERALD_BACKEND'],
    description:
      "the web server's base URL for the backchannel; beats webserver_host/port and the client's Origin (set it in production)",
    defaultNote: 'derived from the Origin, for loopback origins only',
  },
  backendOriginHosts: {
    flag: '--backend-origin-host <host...>',
    env: ['HERALD_BACKEND_ORIGIN_HOSTS'],
    list: true,
    description:
      "without --backend (or webserver_host/port), hosts of a client's Origin the backchannel may be derived from besides loopback ones; any other Origin is refused",
    defaultNote: 'only localhost, *.localhost, 127.0.0.0/8 and ::1',
  },
  webserverHost: {
    flag: '--webserver-host <host>',
    env: ['HERALD_WEBSERVER_HOST'],
    bench: 'webserver_host',
    description: 'backchannel host (used with --webserver-port)',
  },
  webserverPort: {
    flag: '--webserver-port <port>',
    env: ['HERALD_WEBSERVER_PORT'],
    bench: 'webserver_port',
    description: 'backchannel port (with --webserver-host, or the Origin under developer mode)',
  },
  developerMode: {
    flag: '--developer-mode <bool>',
    env: ['HERALD_DEVELOPER_MODE'],
    bench: 'developer_mode',
    description:
      'backchannel uses the Origin with --webserver-port as its port; allows open_in_editor',
  },
  defaultSite: {
    flag: '--default-site <site>',
    env: ['HERALD_DEFAULT_SITE', 'FRAPPE_SITE'],
    bench: 'default_site',
    description: 'site used when the Host is localhost or 127.0.0.1',
  },
  trustedProxies: {
    flag: '--trusted-proxy <cidr...>',
    env: ['HERALD_TRUSTED_PROXIES'],
    list: true,
    description: 'peers whose X-Frappe-Site-Name header is believed',
  },
  allowedOrigins: {
    flag: '--allowed-origin <origin...>',
    env: ['HERALD_ALLOWED_ORIGINS'],
    list: true,
    description: 'extra origins allowed to connect besides the Host match (single-page apps)',
  },
  backendTimeoutMs: {
    flag: '--backend-timeout <ms>',
    env: ['HERALD_BACKEND_TIMEOUT_MS'],
    description: 'how long a backchannel request may take',
  },
  socketSecret: {
    flag: '--socket-secret <secret>',
    env: ['HERALD_SOCKET_SECRET'],
    description: 'X-Frappe-Socket-Secret to send on the backchannel; when given it wins over Redis',
    defaultNote: 'with Redis: its key socketio_auth_secret, read at each connect; without: empty',
  },
  bench: {
    flag: '--bench <dir>',
    env: ['HERALD_BENCH'],
    description: "a Frappe bench: read its config files and load its apps' realtime/handlers.js",
  },
  logLevel: {
    flag: '--log-level <level>',
    env: ['HERALD_LOG_LEVEL'],
    description: 'fatal, error, warn, info, debug, trace or silent',
  },
  logFormat: {
    flag: '--log-format <format>',
    env: ['HERALD_LOG_FORMAT'],
    description: 'json or pretty',
    defaultNote: 'pretty on a terminal, else json',
  },
  shutdownTimeoutMs: {
    flag: '--shutdown-timeout <ms>',
    env: ['HERALD_SHUTDOWN_TIMEOUT_MS'],
    description: 'how long a graceful stop may take before the process exits anyway',
  },
  recoveryWindowMs: {
    flag: '--recovery-window <ms>',
    env: ['HERALD_RECOVERY_WINDOW_MS'],
    description:
      'a client back within this time gets the events it missed and keeps its rooms (0: off)',
  },
  handlers: {
    flag: '--handlers <app=path...>',
    env: ['HERALD_HANDLERS'],
    list: true,
    description:
      "an app's TypeScript/JavaScript handler module (besides a bench's apps/<app>/<app>/realtime/handlers.ts)",
  },
  forward: {
    flag: '--forward <event=path...>',
    env: ['HERALD_FORWARD'],
    list: true,
    description:
      'POST this client event to the web server at PATH and apply its answer (handlers in the backend)',
  },
  dev: {
    flag: '--dev',
    env: ['HERALD_DEV'],
    description: 'development: reload handler modules when their files change',
  },
  adminToken: {
    flag: '--admin-token <token>',
    env: ['HERALD_ADMIN_TOKEN'],
    description:
      'Bearer token of the admin API (/admin/sockets, /admin/rooms); without it the API is off',
    defaultNote: 'off',
  },
  adminUi: {
    flag: '--admin-ui',
    env: ['HERALD_ADMIN_UI'],
    description:
      'serve the official Socket.IO Admin UI at /admin-ui/ (login admin / the admin token); needs --admin-token',
  },
  identityCacheTtlMs: {
    flag: '--identity-cache-ttl <ms>',
    env: ['HERALD_IDENTITY_CACHE_TTL_MS'],
    description:
      'reuse a get_user_info answer for the same site and credentials this long (0: off)',
  },
  permissionCacheTtlMs: {
    flag: '--permission-cache-ttl <ms>',
    env: ['HERALD_PERMISSION_CACHE_TTL_MS'],
    description: 'reuse an allowed has_permission answer this long (0: off)',
  },
  denyCacheTtlMs: {
    flag: '--deny-cache-ttl <ms>',
    env: ['HERALD_DENY_CACHE_TTL_MS'],
    description:
      'reuse a denied has_permission answer this long; must not exceed the allow TTL (0: off)',
  },
  writeCoalescing: {
    flag: '--write-coalescing <bool>',
    env: ['HERALD_WRITE_COALESCING'],
    description:
      "hold each websocket's frames to the end of the event-loop turn (or until 16 sockets hold some) and write them together: fewer system calls and wake-ups under load",
  },
  directRequests: {
    flag: '--direct-requests <bool>',
    env: ['HERALD_DIRECT_REQUESTS'],
    description:
      "take the core client requests (doc_open, doc_subscribe, ...) straight from the websocket, past Engine.IO's and Socket.IO's packet layers, when no middleware or other listener could see them there: about a fifth less CPU per request",
  },
  viewersIntervalMs: {
    flag: '--viewers-interval <ms>',
    env: ['HERALD_VIEWERS_INTERVAL_MS'],
    description:
      "while a document's viewers change, tell them the first change at once and then the latest state at most this often (0: every change at once)",
  },
  rateLimit: {
    flag: '--rate-limit <events/s>',
    env: ['HERALD_RATE_LIMIT'],
    description:
      'events one socket may send per second on average; past it an event is answered HERALD_RATE_LIMITED, and a socket that sends another burst past it is disconnected (0: no limit)',
  },
  rateBurst: {
    flag: '--rate-burst <n>',
    env: ['HERALD_RATE_BURST'],
    description: 'events one socket may send at once above --rate-limit',
  },
  maxRooms: {
    flag: '--max-rooms <n>',
    env: ['HERALD_MAX_ROOMS'],
    description:
      'rooms one socket may be in (its automatic rooms included); a subscribe past it is answered HERALD_LIMIT_REACHED and joins nothing',
  },
  maxOpenDocs: {
    flag: '--max-open-docs <n>',
    env: ['HERALD_MAX_OPEN_DOCS'],
    description: 'documents one socket may have open (doc_open); past it HERALD_LIMIT_REACHED',
  },
  maxNameLength: {
    flag: '--max-name-length <n>',
    env: ['HERALD_MAX_NAME_LENGTH'],
    description:
      "characters of a doctype, document name or task id in a client request (Frappe's names are at most 140)",
  },
  maxOutgoingBytes: {
    flag: '--max-outgoing-bytes <n>',
    env: ['HERALD_MAX_OUTGOING_BYTES'],
    description:
      'bytes waiting to be written to one socket; a socket that reads slower than that is disconnected (logged, herald_sockets_dropped_total{reason="outgoing_buffer"}); at least --max-message-bytes',
    defaultNote: '16 MiB',
  },
  maxHeldRooms: {
    flag: '--max-held-rooms <n>',
    env: ['HERALD_MAX_HELD_ROOMS'],
    description:
      'rooms held in all by the sessions of disconnected clients awaiting recovery; past it the oldest sessions are forgotten (their clients reconnect with recovered: false)',
  },
  apiKeys: {
    flag: '--api-key <key...>',
    env: ['HERALD_API_KEYS'],
    list: true,
    description:
      'Bearer keys of the HTTP publish API (POST /api/v1/publish); without any the API is off',
    defaultNote: 'off',
  },
  apiKeyFile: {
    flag: '--api-key-file <path>',
    env: ['HERALD_API_KEY_FILE'],
    description: 'a file of API keys, one per line (# comments allowed)',
  },
  maxMessageBytes: {
    flag: '--max-message-bytes <n>',
    env: ['HERALD_MAX_MESSAGE_BYTES'],
    description:
      'largest event message accepted, in bytes: an HTTP publish body, or a message on the events channel (a larger one is skipped and counted as too_large)',
    defaultNote: '8 MiB: Python escapes each non-ASCII character in 6 bytes',
  },
  demo: {
    flag: '--demo',
    env: ['HERALD_DEMO'],
    description: 'serve the built-in demo site on the same port (a demo, never for production)',
  },
  demoData: {
    flag: '--demo-data <dir>',
    env: ['HERALD_DEMO_DATA'],
    description: 'where the demo site keeps its data between restarts',
  },
  cluster: {
    flag: '--cluster',
    env: ['HERALD_CLUSTER'],
    description:
      'run as one node of a cluster: every node on the same Redis behaves as one server (events, recovery, viewers, handlers, admin); needs --redis',
  },
  clusterRedis: {
    flag: '--cluster-redis <url...>',
    env: ['HERALD_CLUSTER_REDIS'],
    list: true,
    description:
      "Redis for the cluster's stream, sessions and presence; several URLs: the nodes of a Redis Cluster",
    defaultNote: '--redis',
  },
  clusterPrefix: {
    flag: '--cluster-prefix <prefix>',
    env: ['HERALD_CLUSTER_PREFIX'],
    description: 'prefix of every cluster key and channel in Redis (several clusters on one Redis)',
  },
  clusterStreamLength: {
    flag: '--cluster-stream-length <n>',
    env: ['HERALD_CLUSTER_STREAM_LENGTH'],
    description:
      "entries the cluster's event stream keeps: at least the peak events/s × the recovery window in seconds × 1.5 (see Running a cluster)",
  },
  nodeId: {
    flag: '--node-id <id>',
    env: ['HERALD_NODE_ID'],
    description: "this node's name in the cluster, its logs, metrics and health; unique",
    defaultNote: 'host name, process id and 4 random hex digits',
  },
  workers: {
    flag: '--workers <count>',
    env: ['HERALD_WORKERS'],
    description:
      'run N worker processes on the one port (auto: one per core), each a node of the cluster; needs --cluster',
    defaultNote: 'one process',
  },
  pidFile: {
    flag: '--pid-file <path>',
    env: ['HERALD_PID_FILE'],
    description: "write the server's process id here (for herald reload)",
  },
};

/** Every setting with its key, in order. */
export const SETTING_LIST: readonly Setting[] = (Object.keys(SETTINGS) as ConfigKey[]).map(
  (key) => ({ key, ...SETTINGS[key] }),
);

/**
 * A setting's default as `--help` and the README show it: the schema's value (`none` when there
 * is none, a list's values separated by spaces), then the setting's `defaultNote` in parentheses.
 */
export function defaultText(key: ConfigKey): string {
  const value: unknown = (configSchema.shape[key] as z.ZodType).parse(undefined);
  const shown =
    value === undefined || (Array.isArray(value) && value.length === 0)
      ? 'none'
      : Array.isArray(value)
        ? value.join(' ')
        : String(value);
  const note = SETTINGS[key].defaultNote;
  return note ? `${shown} (${note})` : shown;
}
