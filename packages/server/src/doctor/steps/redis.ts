import { createClient } from 'redis';
import { type DoctorStep, fail, withTimeout } from './step.js';

/**
 * redis (with --redis): a realtime server subscribes to `events` there, and a msgprint published
 * to this socket's user room arrives on the socket: the web server's path to the browser.
 */
export const redisStep: DoctorStep = {
  name: 'redis',
  async run({ options, socket, who, site, timeoutMs }) {
    if (!options.redis)
      return { status: 'skip', detail: 'give --redis to check publishing through Redis' };
    const client = createClient({
      url: options.redis,
      socket: { reconnectStrategy: false, connectTimeout: timeoutMs },
    });
    // Failures are reported by the awaited calls; without a listener the client would throw.
    client.on('error', () => undefined);
    try {
      await client
        .connect()
        .catch((error: Error) =>
          fail(
            `Redis unreachable at ${options.redis} (${error.message})`,
            'Redis is down or the URL is wrong',
            "check --redis: it must be the bench's redis_queue, the Redis the web server publishes to",
          ),
        );
      const numsub = (await client.pubSubNumSub('events')) as Record<string, number>;
      const listeners = numsub.events ?? 0;
      if (listeners === 0) {
        return fail(
          `no realtime server is subscribed to "events" on ${options.redis}`,
          'events published by the web server reach nobody',
          'start the realtime server with --redis pointing at this Redis (upstream: redis_queue in common_site_config.json)',
        );
      }
      const connected = socket!;
      // Guest when identity was skipped: the server did not say whom it takes the socket for.
      const user = who?.user ?? 'Guest';
      const marker = `herald doctor check ${Date.now()}`;
      const started = process.hrtime.bigint();
      const arrived = new Promise<void>((resolve) => {
        const onMessage = (data: { message?: string } | string) => {
          if ((typeof data === 'string' ? data : data?.message) === marker) {
            connected.off('msgprint', onMessage);
            resolve();
          }
        };
        connected.on('msgprint', onMessage);
      });
      await client.publish(
        'events',
        JSON.stringify({
          event: 'msgprint',
          message: { message: marker, title: 'herald doctor' },
          room: `user:${user}`,
          namespace: site,
        }),
      );
      await withTimeout(arrived, timeoutMs, 'the published msgprint').catch(() =>
        fail(
          `a msgprint published to user:${user} on ${options.redis} did not arrive`,
          'the realtime server subscribed to this Redis is not the one serving this URL, or the socket is not in its user room',
          'point the realtime server behind this URL at the same Redis as the web server',
        ),
      );
      return {
        status: 'ok',
        detail: `${listeners} realtime server(s) listening; a msgprint to user:${user} arrived in ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms`,
      };
    } finally {
      client.destroy();
    }
  },
};
