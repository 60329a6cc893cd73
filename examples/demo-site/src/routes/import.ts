import { requireDesk } from '../guards.js';
import { json } from '../http.js';
import { startImport } from '../import-job.js';
import type { SitePublisher } from '../publishing.js';
import type { Route } from '../router.js';

/**
 * `demo.start_import`: starts the background import job (import-job.ts) and answers at once with
 * its task id, which the page subscribes to for the job's progress.
 */
export function importRoutes(
  publisherFor: (site: string) => SitePublisher,
  importMs: number,
  log: (error: unknown) => void,
): Route[] {
  return [
    {
      method: 'POST',
      path: /^\/api\/method\/demo\.start_import$/,
      handle: (_req, res, { site, session }) => {
        if (!requireDesk(res, session)) return;
        const taskId = startImport(publisherFor(site), session.user, importMs, log);
        json(res, 200, { message: { task_id: taskId } });
      },
    },
  ];
}
