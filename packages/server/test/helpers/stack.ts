import { type ConfigInput, type Herald, type Logger, silentLogger } from '@herald/server';
import { startTestHerald } from '@herald/server/testing';
import {
  type BackendBehaviour,
  startRedis,
  startTestBackend,
  type TestBackend,
  type TestRedis,
} from '@herald/testkit';
import { io, type Socket } from 'socket.io-client';
import { fixtureSites } from './fixtures.js';

/** A socket.io-client socket as a test uses it. */
export type ClientSocket = Socket;

/** How a test client connects: the site it claims and the credentials it sends. */
export interface ClientOptions {
  site: string;
  /** Namespace to connect to (default `/<site>`). */
  namespace?: string;
  /** Host header (default `<site>:<port>`); null sends the real one. */
  host?: string | null;
  /** Origin header (default `http://<site>:<port>`); null sends none. */
  origin?: string | null;
  sid?: string;
  cookie?: string;
  authorization?: string;
  headers?: Record<string, string>;
  transports?: ('websocket' | 'polling')[];
  /** Socket.IO's handshake `auth` payload (e.g. `{ heraldAdminToken }`). */
  auth?: Record<string, unknown>;
}

/** Herald with the real parts around it: a test backend, and optionally its own redis-server. */
export interface Stack {
  herald: Herald;
  backend: TestBackend;
  redis: TestRedis | undefined;
  /** Connects and resolves once connected; rejects with the connect_error. */
  connect(options: ClientOptions): Promise<ClientSocket>;
  /** Connects and resolves with the connect_error (fails if it connects). */
  connectError(
    options: ClientOptions,
  ): Promise<
    Error & { data?: { code?: string; hint?: string; detail?: string; backchannel?: string } }
  >;
  /** Restarts Herald on the same port with the same config. */
  restartHerald(): Promise<void>;
  close(): Promise<void>;
}

/** Builds a socket.io-client socket for a Herald URL (not yet connected). */
export function clientSocket(url: string, port: number, options: ClientOptions): ClientSocket {
  const headers: Record<string, string> = { ...options.headers };
  if (options.host !== null) headers.host = options.host ?? `${options.site}:${port}`;
  if (options.origin !== null) headers.origin = options.origin ?? `http://${options.site}:${port}`;
  const cookie = options.cookie ?? (options.sid ? `sid=${options.sid}` : undefined);
  if (cookie) headers.cookie = cookie;
  if (options.authorization) headers.authorization = options.authorization;
  return io(`${url}${options.namespace ?? `/${options.site}`}`, {
    transports: options.transports ?? ['websocket'],
    extraHeaders: headers,
    forceNew: true,
    reconnection: false,
    timeout: 10_000,
    autoConnect: false,
    ...(options.auth && { auth: options.auth }),
  });
}

/** Starts a test backend, Herald (with `config`), and a redis-server when `redis` is true. */
export async function startStack(
  options: {
    redis?: boolean;
    config?: ConfigInput;
    behaviour?: Partial<BackendBehaviour>;
    logger?: Logger;
  } = {},
): Promise<Stack> {
  const redis = options.redis ? await startRedis() : undefined;
  const backend = await startTestBackend({ sites: fixtureSites(), ...options.behaviour });
  // The test settings (no caches: most tests change the backend's answers as they go).
  const config: ConfigInput = { backend: backend.url, redis: redis?.url, ...options.config };
  const logger = options.logger ?? silentLogger();
  let herald: Herald;
  try {
    herald = await startTestHerald(config, { logger });
  } catch (error) {
    await backend.close();
    await redis?.stop();
    throw error;
  }
  const port = herald.port!;
  const sockets: ClientSocket[] = [];

  const open = (opts: ClientOptions) => {
    const socket = clientSocket(herald.url, port, opts);
    sockets.push(socket);
    return socket;
  };
  const stack: Stack = {
    get herald() {
      return herald;
    },
    backend,
    redis,
    connect: (opts) =>
      new Promise((resolve, reject) => {
        const socket = open(opts);
        socket.once('connect', () => resolve(socket));
        socket.once('connect_error', reject);
        socket.connect();
      }),
    connectError: (opts) =>
      new Promise((resolve, reject) => {
        const socket = open(opts);
        socket.once('connect', () =>
          reject(new Error(`expected a connect_error, but ${opts.site} connected`)),
        );
        socket.once('connect_error', (error) => resolve(error));
        socket.connect();
      }),
    restartHerald: async () => {
      await herald.close();
      herald = await startTestHerald({ ...config, port }, { logger });
    },
    close: async () => {
      for (const socket of sockets) socket.disconnect();
      await herald.close();
      await backend.close();
      await redis?.stop();
    },
  };
  return stack;
}

/**
 * Collects every event a socket receives, in order, for assertions. With connection state recovery
 * on, Socket.IO appends its offset (a string) to every room event; it is recorded apart.
 */
export function recorder(socket: ClientSocket): {
  events: { event: string; args: unknown[]; offset?: string }[];
  of(event: string): unknown[][];
} {
  const events: { event: string; args: unknown[]; offset?: string }[] = [];
  const hasSession = () => Boolean((socket as unknown as { _pid?: string })._pid);
  socket.onAny((event: string, ...args: unknown[]) => {
    // Herald's first event of a session (it gives the client its recovery offset): not the test's.
    if (event === 'herald_session') return;
    const last = args.at(-1);
    if (hasSession() && args.length > 1 && typeof last === 'string') {
      events.push({ event, args: args.slice(0, -1), offset: last });
    } else {
      events.push({ event, args });
    }
  });
  return { events, of: (event) => events.filter((e) => e.event === event).map((e) => e.args) };
}

export { silentLogger };
