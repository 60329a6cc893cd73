/** What a handler sees of a socket (section 8's Socket, in TypeScript spelling). */
export interface HandlerSocket {
  readonly id: string;
  readonly site: string;
  readonly user: string;
  readonly userType: string;
  readonly installedApps: readonly string[];
  /** Adds this socket to a room of its site. */
  join(room: string): void;
  /** Removes it from a room. */
  leave(room: string): void;
  /** Emits to a room of the site, or to this client when no room is given. */
  emit(event: string, data?: unknown, room?: string): void;
  /** Reads per-socket state (cleared when the socket goes away). */
  get<T = unknown>(key: string, fallback?: T): T | undefined;
  /** Writes per-socket state. */
  set(key: string, value: unknown): void;
  /**
   * The sockets in a room of this site, with their users: on every node of a cluster (a node that
   * does not answer within 2 s is left out). Asynchronous since cluster mode: `await` it.
   */
  participants(room: string): Promise<{ socketId: string; user: string }[]>;
  /** Asks the web server whether this socket's user may read the doctype or document. */
  hasPermission(doctype: string, name?: string | number): Promise<boolean>;
}

/** Anything with zod's `safeParse`: validates the client's arguments (as an array). */
/** One problem a schema found (zod's issue: a tuple of too few or too many names its bound). */
export interface ArgsIssue {
  path: PropertyKey[];
  message: string;
  code?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
}

export interface ArgsSchema {
  safeParse(value: unknown): {
    success: boolean;
    data?: unknown;
    error?: { issues: ArgsIssue[] };
  };
}

/** Options of a handler. */
export interface HandlerOptions {
  /** Run for Guest sockets too (default false: Guest gets HERALD_GUEST_NOT_ALLOWED). */
  allowGuest?: boolean;
  /** Validates the arguments array, e.g. `z.tuple([z.string()])`; a failure answers HERALD_BAD_ARGUMENT. */
  schema?: ArgsSchema;
}

/** A handler: the socket, then the client's arguments. Its return value answers the acknowledgement. */
// biome-ignore lint/suspicious/noExplicitAny: arguments are the client's, checked by the schema when given
export type Handler = (socket: HandlerSocket, ...args: any[]) => unknown;

/** The object an app's handler module receives. */
export interface Realtime {
  /** Registers a handler for a client event. */
  on(event: string, handler: Handler, options?: HandlerOptions): void;
}

/** An app's handler module: `export default (realtime) => { realtime.on(...) }`. */
export type HandlerModule = (realtime: Realtime) => void | Promise<void>;
