import type { Metrics } from '../metrics.js';
import type { HttpRoute } from '../server.js';
import { pathOf } from './respond.js';

/** `/metrics` in the Prometheus text format. */
export function metricsRoute(metrics: Metrics): HttpRoute {
  return (req, res) => {
    if (pathOf(req) !== '/metrics') return false;
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      },
      (error: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`cannot collect metrics: ${error.message}`);
      },
    );
    return true;
  };
}
