import type { BackchannelSettings } from '@herald/protocol';
import { backchannelBase } from '@herald/protocol';
import type { Broker } from '../bridge/broker.js';
import type { HttpRoute } from '../server.js';
import { bearerToken, pathOf, sameSecret, sendJson } from './respond.js';

/** What `/health/ready` reports of a cluster node. */
export interface ClusterHealth {
  node: string;
  /** Whether its connection to the cluster's Redis is up. */
  redis: boolean;
  holdsLease: boolean;
  /** The ingest lease's holder as this node last saw it. */
  leaseHolder: string | undefined;
  leaseAgeMs: number | undefined;
}

/** One readiness check: whether it passes and, when not, why. */
interface Check {
  ok: boolean;
  detail?: string;
}

/** Asks the web server something cheap; any answer but a redirect means it is reachable. */
async function probeBackend(base: string, timeoutMs: number): Promise<Check> {
  const url = `${base}/api/method/ping`;
  try {
    const response = await fetch(url, {
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    if (response.status >= 300 && response.status < 400) {
      return {
        ok: false,
        detail: `backend redirected ${url} to ${response.headers.get('location') ?? '(no Location)'}: backchannel requests would lose the cookie`,
      };
    }
    return { ok: true, detail: `${url} answered HTTP ${response.status}` };
  } catch (error) {
    const err = error as Error & { cause?: { code?: string } };
    const reason =
      err.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (err.cause?.code ?? err.message);
    return { ok: false, detail: `backend unreachable at ${url} (${reason})` };
  }
}

/**
 * `/health/live`: the process answers. `/health/ready`: events can flow (Redis subscribed) and the
 * configured backend answers, with the reasons as JSON (503 when not ready).
 */
export function healthRoute(deps: {
  broker: Broker;
  /** Read at each probe: the demo sets the backend once it listens. */
  backchannel: () => BackchannelSettings;
  timeoutMs: number;
  /** The admin token: only a request that presents it is told why a check failed. */
  adminToken?: string | undefined;
  /** In a cluster: this node, its Redis, and the ingest lease as this node sees it. */
  cluster?: () => ClusterHealth | undefined;
}): HttpRoute {
  return (req, res) => {
    const path = pathOf(req);
    if (path === '/health/live') {
      sendJson(res, 200, { status: 'ok' });
      return true;
    }
    if (path !== '/health/ready') return false;
    void (async () => {
      const broker = deps.broker.status();
      const checks: Record<string, Check> = {
        events: broker.ready
          ? {
              ok: true,
              detail:
                deps.broker.kind === 'redis'
                  ? 'subscribed to the Redis channel events'
                  : 'in-memory broker',
            }
          : { ok: false, detail: broker.detail ?? 'not ready' },
      };
      // Only a fixed backend can be checked: otherwise the URL comes from each client's Origin.
      const base = backchannelBase(
        { ...deps.backchannel(), developerMode: false },
        undefined,
        undefined,
      );
      const cluster = deps.cluster?.();
      if (cluster) {
        checks.cluster = !cluster.redis
          ? { ok: false, detail: "the cluster's Redis is unreachable" }
          : cluster.leaseHolder === undefined
            ? {
                ok: false,
                detail: 'no node holds the ingest lease yet: events from the web processes wait',
              }
            : {
                ok: true,
                detail: cluster.holdsLease
                  ? 'this node holds the ingest lease'
                  : `node ${cluster.leaseHolder} holds the ingest lease`,
              };
      }
      const about = cluster && {
        cluster: {
          node: cluster.node,
          holdsLease: cluster.holdsLease,
          leaseHolder: cluster.leaseHolder ?? null,
          leaseAgeMs: cluster.leaseAgeMs ?? null,
        },
      };
      checks.backend = base
        ? await probeBackend(base, deps.timeoutMs)
        : { ok: true, detail: 'derived from each connection (set --backend to check it here)' };
      const ready = Object.values(checks).every((check) => check.ok);
      // The details name internal URLs and errors: for the operator, not for whoever can reach
      // the port (a load balancer needs only the status).
      const token = bearerToken(req);
      if (
        deps.adminToken !== undefined &&
        token !== undefined &&
        sameSecret(token, deps.adminToken)
      ) {
        sendJson(res, ready ? 200 : 503, { ready, ...about, checks });
        return;
      }
      const bare = Object.fromEntries(
        Object.entries(checks).map(([name, check]) => [name, { ok: check.ok }]),
      );
      sendJson(res, ready ? 200 : 503, {
        ready,
        ...about,
        checks: bare,
        hint: 'send Authorization: Bearer <the --admin-token value> for the details (the server log has them too)',
      });
    })();
    return true;
  };
}
