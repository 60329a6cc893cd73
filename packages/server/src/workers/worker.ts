import { HeraldError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { type Herald, startHerald } from '../server.js';
import { heraldType, type PrimaryMessage, type WorkerMessage } from './messages.js';

/**
 * How long a started worker waits to be subscribed to `events` before it says it is ready anyway
 * (Redis down: it subscribes when Redis is back, as a single Herald does).
 */
const SUBSCRIBED_WAIT_MS = 10_000;

/** Resolves once the broker can deliver events, or after `timeoutMs`; says which. */
async function subscribed(herald: Herald, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!herald.broker.status().ready) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** Sends a message to the primary; resolves once it is written (or the channel is gone). */
function tell(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) {
      resolve();
      return;
    }
    process.send(message, undefined, undefined, () => resolve());
  });
}

/** Waits for the primary's `herald:start`: the configuration it parsed, and this worker's number. */
function startMessage(): Promise<Extract<PrimaryMessage, { type: 'herald:start' }>> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (heraldType(message) !== 'herald:start') return;
      process.off('message', onMessage);
      resolve(message as Extract<PrimaryMessage, { type: 'herald:start' }>);
    };
    process.on('message', onMessage);
    void tell({ type: 'herald:hello' });
  });
}

/**
 * A worker of `herald serve --workers` (workers/primary.ts forks it): a whole Herald that does not
 * listen, with the configuration the primary parsed; says `herald:ready` once started; stops
 * gracefully on SIGTERM, SIGINT or when the primary is gone, and exits once the primary has
 * everything it sent (a request the primary holds for it is answered or ended first).
 */
export async function runWorker(): Promise<void> {
  // The primary's SIGHUP is a reload; a terminal's hangup reaches the workers too: not an exit.
  process.on('SIGHUP', () => {});
  const stopBeforeStart = () => process.exit(0);
  process.once('SIGTERM', stopBeforeStart);
  process.once('SIGINT', stopBeforeStart);
  process.once('disconnect', stopBeforeStart);
  const { config, worker } = await startMessage();
  const logger: Logger = createLogger(config).child({ worker, pid: process.pid });
  let herald: Herald;
  try {
    herald = await startHerald(config, { logger, listen: 'sticky-worker' });
  } catch (error) {
    const known = error instanceof HeraldError ? { code: error.code, hint: error.hint } : {};
    logger.fatal({ err: error, ...known }, (error as Error).message);
    await tell({ type: 'herald:stopped' });
    process.exit(known.code === 'HERALD_CONFIG_INVALID' ? 2 : 1);
  }
  process.off('SIGTERM', stopBeforeStart);
  process.off('SIGINT', stopBeforeStart);
  process.off('disconnect', stopBeforeStart);

  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, 'worker stopping: closing sockets and Redis');
    setTimeout(() => {
      logger.warn(`graceful stop took longer than ${config.shutdownTimeoutMs} ms; exiting anyway`);
      process.exit(0);
    }, config.shutdownTimeoutMs).unref();
    herald
      .close()
      .catch((error: unknown) => logger.error({ err: error }, 'error while stopping'))
      .then(() => tell({ type: 'herald:stopped' }))
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('disconnect', () => stop('the primary is gone'));
  // Ready means events reach this worker's sockets: a reload stops an old worker only then.
  if (!(await subscribed(herald, SUBSCRIBED_WAIT_MS))) {
    logger.warn(
      { detail: herald.broker.status().detail },
      `not subscribed to events after ${SUBSCRIBED_WAIT_MS} ms: ready anyway (it subscribes once Redis answers)`,
    );
  }
  if (!stopping) await tell({ type: 'herald:ready' });
}
