// The <script> tag build: everything on the global `HeraldRealtime`.
export { RealtimeError } from './errors.js';
export { installFrappeRealtime } from './frappe-shim.js';
export { createRealtime } from './realtime.js';
