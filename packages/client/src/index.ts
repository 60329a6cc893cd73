export { PERMANENT_CONNECT_ERRORS, RealtimeError } from './errors.js';
export type * from './events.js';
export { type FrappeRealtimeShim, installFrappeRealtime } from './frappe-shim.js';
export { createRealtime, Realtime, type RealtimeOptions, type ResyncInfo } from './realtime.js';
export type { ConnectionStatus, Observable } from './status.js';
