import type { StepResult } from './report.js';

/** What the doctor is asked to check. */
export interface DoctorOptions {
  /** The site's public URL, e.g. https://erp.example.com (or the realtime server's own URL). */
  url?: string | undefined;
  /** A Frappe bench whose files are checked first, offline (bench-steps.ts). */
  bench?: string | undefined;
  site?: string | undefined;
  sid?: string | undefined;
  /** `key:secret` (sent as `token key:secret`) or a whole Authorization value. */
  token?: string | undefined;
  login?: string | undefined;
  password?: string | undefined;
  redis?: string | undefined;
  /** The --cluster-prefix of `herald serve --cluster` nodes on that Redis (default `herald`). */
  clusterPrefix?: string | undefined;
  /**
   * The realtime server's --admin-token: presented in the handshake, it makes Herald tell this
   * socket (and no other) the backchannel URL and the backend's errors.
   */
  adminToken?: string | undefined;
  /** How long each network step may take. */
  timeoutMs?: number | undefined;
  /** Called when a step starts (for a spinner) and when it ends. */
  onStep?: (name: string, result?: StepResult) => void;
}
