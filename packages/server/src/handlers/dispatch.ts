import { GUEST } from '@herald/protocol';
import type { Backchannel } from '../auth/backchannel.js';
import type { ClusterRequests } from '../cluster/requests.js';
import { HeraldError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { isCoreEvent } from '../rooms/core-handlers.js';
import type { SocketLimits } from '../rooms/limits.js';
import { answer, failure, takeAck } from '../rooms/reply.js';
import type { HeraldSocket } from '../session.js';
import type { Forwarder } from './forward.js';
import type { HandlerRegistry } from './registry.js';
import { handlerSocket } from './socket-api.js';
import type { ArgsIssue, HandlerSocket } from './types.js';

/** What happened to handled events since start, by `app:event`. */
export interface HandlerStats {
  calls: Map<string, number>;
  failures: Map<string, number>;
}

/**
 * A schema's issue in the client's terms: the argument it is about (counted from 0, as `path`
 * is), or, for too few or too many arguments, which positions are missing or extra.
 */
export function describeIssue(issue: ArgsIssue, args: unknown[]): string {
  if (issue.path.length > 0)
    return `argument ${issue.path.map(String).join('.')}: ${issue.message}`;
  const count = args.length;
  const range = (from: number, to: number) =>
    from === to ? `argument ${from} is` : `arguments ${from} to ${to} are`;
  if (issue.code === 'too_small' && issue.minimum !== undefined) {
    const min = Number(issue.minimum);
    return `${range(count, min - 1)} missing (expected ${min}, got ${count})`;
  }
  if (issue.code === 'too_big' && issue.maximum !== undefined) {
    const max = Number(issue.maximum);
    return `${range(max, count - 1)} extra (expected at most ${max}, got ${count})`;
  }
  return `the arguments: ${issue.message}`;
}

const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/**
 * Routes a socket's app events to the registered handlers (looked up at each event, so a reload
 * applies at once) and to forwarded backend endpoints. Handlers run in registration order, only for
 * apps installed on the socket's site, and only for signed-in users unless `allowGuest`. A failing
 * handler is logged and counted, and answers the client with a coded error; nothing else is affected.
 */
export function appEventListener(deps: {
  registry: HandlerRegistry;
  forwarder: Forwarder | undefined;
  backchannel: Backchannel;
  stats: HandlerStats;
  logger: Logger;
  metrics?: Metrics;
  limits: SocketLimits;
  /** In a cluster: a room's participants on the other nodes. */
  requests?: ClusterRequests | undefined;
}): (this: HeraldSocket, event: string, ...raw: unknown[]) => void {
  const { registry, forwarder, stats } = deps;
  // Built on a socket's first app event: most sockets never send one, and it holds a dozen closures.
  const apis = new WeakMap<HeraldSocket, HandlerSocket>();
  const apiOf = (socket: HeraldSocket) => {
    let api = apis.get(socket);
    if (!api) {
      api = handlerSocket(socket, deps.backchannel, deps.limits, deps.requests);
      apis.set(socket, api);
    }
    return api;
  };
  // One listener for every socket of the server (Socket.IO calls it with the socket as `this`).
  return function (event, ...raw) {
    if (isCoreEvent(event)) return;
    const forwarded = forwarder?.handles(event) ?? false;
    const installed = registry
      .handlersOf(event)
      .filter((r) => this.data.installedApps.includes(r.app));
    const args = raw;
    const ack = takeAck(args);
    if (installed.length === 0 && !forwarded) {
      // Core and legacy handlers answer for themselves; a request nobody handles is answered here.
      if (ack && this.listeners(event).length === 0) {
        answer(
          this,
          event,
          ack,
          failure(
            new HeraldError(
              'HERALD_UNKNOWN_EVENT',
              `no handler for "${event}" on site ${this.data.site}`,
            ),
          ),
        );
      }
      return;
    }
    void (async () => {
      let reply: unknown;
      try {
        for (const registration of installed) {
          const key = `${registration.app}:${event}`;
          if (this.data.user === GUEST && !registration.options.allowGuest) {
            throw new HeraldError(
              'HERALD_GUEST_NOT_ALLOWED',
              `${event}: sign in first (the handler of app ${registration.app} is not for Guest)`,
            );
          }
          let input: unknown[] = args;
          const schema = registration.options.schema;
          if (schema) {
            const checked = schema.safeParse(args);
            if (!checked.success) {
              const problems = (checked.error?.issues ?? []).map((i) => describeIssue(i, args));
              throw new HeraldError(
                'HERALD_BAD_ARGUMENT',
                `${event}: ${problems.join('; ') || 'invalid arguments'}`,
              );
            }
            if (Array.isArray(checked.data)) input = checked.data;
          }
          bump(stats.calls, key);
          const labels = { app: registration.app, event: deps.metrics?.eventLabel(event) ?? event };
          try {
            const result = await registration.handler(apiOf(this), ...input);
            deps.metrics?.handlerCalls.inc({ ...labels, outcome: 'ok' });
            if (result !== undefined) reply = result;
          } catch (error) {
            // A limit the handler ran into is the client's to know, as for core requests.
            if (error instanceof HeraldError && error.code === 'HERALD_LIMIT_REACHED') throw error;
            bump(stats.failures, key);
            deps.metrics?.handlerCalls.inc({ ...labels, outcome: 'failed' });
            deps.logger.error(
              {
                err: error,
                app: registration.app,
                event,
                site: this.data.site,
                user: this.data.user,
                socket: this.id,
              },
              `handler of app ${registration.app} for "${event}" failed`,
            );
            throw new HeraldError(
              'HERALD_HANDLER_FAILED',
              `${event}: the handler of app ${registration.app} failed`,
            );
          }
        }
        if (forwarded && forwarder) {
          const forwardedReply = await forwarder.forward(this, event, args);
          if (forwardedReply !== undefined) reply = forwardedReply;
        }
        if (ack) ack(reply === undefined ? { ok: true } : reply);
      } catch (error) {
        answer(this, event, ack, failure(error));
      }
    })();
  };
}
