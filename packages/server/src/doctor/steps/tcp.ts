import { connect } from 'node:net';
import { type DoctorStep, fail, withTimeout } from './step.js';

/** tcp: something accepts a connection on the resolved address and the URL's port. */
export const tcpStep: DoctorStep = {
  name: 'tcp',
  async run({ url, port, address, timeoutMs }) {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        const socket = connect(port, address!, () => {
          socket.destroy();
          resolve();
        });
        socket.on('error', reject);
      }),
      timeoutMs,
      'TCP connect',
    ).catch((error: NodeJS.ErrnoException) =>
      fail(
        `cannot connect to ${url.hostname}:${port} (${error.code ?? error.message})`,
        'nothing listens there, or a firewall drops the connection',
        'check that the proxy (or the realtime server) runs and listens on that port',
      ),
    );
    return { status: 'ok', detail: `${address}:${port} accepts connections` };
  },
};
