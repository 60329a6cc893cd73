import { Manager } from 'socket.io-client';
import { type DoctorStep, fail } from './step.js';

/** websocket: an Engine.IO connection opens over the websocket transport alone. */
export const websocketStep: DoctorStep = {
  name: 'websocket',
  async run({ base, timeoutMs }) {
    // A bare Manager: the transport is checked on its own, before any namespace or credentials.
    const manager = new Manager(base, {
      transports: ['websocket'],
      reconnection: false,
      autoConnect: false,
      timeout: timeoutMs,
      extraHeaders: { origin: base },
    });
    try {
      await new Promise<void>((resolve, reject) =>
        manager.open((error) => (error ? reject(error) : resolve())),
      );
    } catch (error) {
      return fail(
        `the websocket upgrade failed (${(error as Error).message}); clients fall back to polling`,
        'a proxy without upgrade headers: it does not pass Upgrade/Connection to the realtime server',
        'in nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade";',
      );
    } finally {
      manager.engine?.close();
    }
    return { status: 'ok', detail: 'websocket transport works' };
  },
};
