import { type DoctorStep, fail, withTimeout } from './step.js';

/** ping: the connected socket gets a pong, so the server runs Frappe's core handlers. */
export const pingStep: DoctorStep = {
  name: 'ping',
  async run({ socket, timeoutMs }) {
    const connected = socket!;
    const started = process.hrtime.bigint();
    await withTimeout(
      new Promise<void>((resolve) => {
        connected.once('pong', () => resolve());
        connected.emit('ping');
      }),
      timeoutMs,
      'pong',
    ).catch(() =>
      fail(
        'no pong to ping',
        'the server does not run the core handlers',
        'check that this is a Frappe realtime server',
      ),
    );
    return {
      status: 'ok',
      detail: `pong in ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms`,
    };
  },
};
