/**
 * What the doctor's network steps share: the target, fixed before the first step, and what each
 * step finds for the ones after it (the address, the socket, Herald's answer to herald_whoami).
 */
import type { Socket } from 'socket.io-client';
import type { DoctorOptions } from '../options.js';

/** Herald's check of its backchannel, in its answer to herald_whoami. */
export interface BackchannelCheck {
  ok?: boolean;
  /** Only to the operator's socket (it presented --admin-token). */
  url?: string;
  code?: string;
  message?: string;
  /** The backend's own words: only to the operator's socket. */
  detail?: string;
  hint?: string;
  ms?: number;
}

/** The part of Herald's answer to herald_whoami that the doctor reads. */
export interface Whoami {
  user?: string;
  rooms?: string[];
  userType?: string;
  backchannel?: BackchannelCheck;
}

/** The target of the checks and what the steps pass on to each other. */
export interface StepContext {
  readonly options: DoctorOptions;
  readonly url: URL;
  /** The URL's origin: where every request goes, and the Origin they present. */
  readonly base: string;
  /** The Socket.IO namespace connected to: --site, else the URL's host name. */
  readonly site: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** From dns: the address tcp and tls connect to. */
  address?: string;
  /**
   * From connect, set before it connects so that the runner closes it whatever happens; ping,
   * identity and redis talk over it.
   */
  socket?: Socket;
  /** From identity, when a Herald server answered with a user: backend and redis read it. */
  who?: Whoami;
}
