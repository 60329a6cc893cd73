import type { Credentials } from '@herald/protocol';
import type { DefaultEventsMap, Namespace, Server, Socket } from 'socket.io';
import type { BackchannelTarget, Identity } from './auth/backchannel.js';
import type { RateState } from './rooms/limits.js';

/** What Herald knows about an authenticated socket (Socket.IO's `socket.data`). */
export interface SocketSession {
  site: string;
  user: string;
  userType: string;
  installedApps: string[];
  credentials: Credentials;
  /** Where this socket's backchannel calls go. */
  backchannel: BackchannelTarget;
  /** Documents open on this socket (doc_open), keyed by room name; created at the first. */
  openDocs?: Map<string, { doctype: string; docname: string }> | undefined;
  /** Per-socket state of custom handlers, cleared on disconnect; created at the first value. */
  state?: Map<string, unknown> | undefined;
  /** The socket's room changes still running, in order (none when idle). */
  pending?: Promise<void> | undefined;
  /** Permission checks started ahead of the socket's earlier requests, still running. */
  earlyChecks?: number | undefined;
  /** Its event budget (rooms/limits.ts), made at its first event. */
  rate?: RateState | undefined;
  /**
   * Whether the socket presented the admin token when it connected (`auth.heraldAdminToken`):
   * it is the operator's (`herald doctor`), and may see backchannel URLs and backend errors.
   */
  readonly operator?: boolean;
}

/**
 * The session of an authenticated socket, laid out for memory: one object per socket, whose fields
 * sit in the object itself, and which is also where its backchannel calls go (no second object).
 */
export class Session implements SocketSession, BackchannelTarget {
  readonly user: string;
  readonly userType: string;
  readonly installedApps: string[];
  openDocs: SocketSession['openDocs'] = undefined;
  state: SocketSession['state'] = undefined;
  pending: SocketSession['pending'] = undefined;
  earlyChecks: SocketSession['earlyChecks'] = undefined;
  rate: SocketSession['rate'] = undefined;

  constructor(
    readonly base: string,
    readonly site: string,
    readonly credentials: Credentials,
    identity: Identity,
  ) {
    this.user = identity.user;
    this.userType = identity.userType;
    this.installedApps = identity.installedApps;
  }

  get backchannel(): BackchannelTarget {
    return this;
  }

  /** Not the operator's: see OperatorSession. A getter, so a socket's session holds no field for it. */
  get operator(): boolean {
    return false;
  }
}

/** The session of a socket that presented the admin token (the operator's `herald doctor`). */
export class OperatorSession extends Session {
  override get operator(): boolean {
    return true;
  }
}

// Event maps stay open: the Frappe protocol lets apps define their own events.
type Events = DefaultEventsMap;
// biome-ignore lint/suspicious/noExplicitAny: events of installed apps are not known in advance
type AnyEvents = Record<string, (...args: any[]) => void>;

export type HeraldIo = Server<AnyEvents, Events, Events, SocketSession>;
export type HeraldNamespace = Namespace<AnyEvents, Events, Events, SocketSession>;
export type HeraldSocket = Socket<AnyEvents, Events, Events, SocketSession>;
