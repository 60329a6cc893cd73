import { randomBytes } from 'node:crypto';
import type { SitePublisher } from './publishing.js';

/** A background import: 20 rows over `durationMs`, reporting progress to its user and its task room. */
export function startImport(
  publisher: SitePublisher,
  user: string,
  durationMs: number,
  log: (error: unknown) => void,
): string {
  const taskId = `import-${randomBytes(6).toString('hex')}`;
  const rows = 20;
  const forUser = publisher.withContext({ user });
  let row = 0;
  const step = () => {
    row += 1;
    const percent = Math.round((row / rows) * 100);
    const description = row === rows ? `Imported ${rows} rows` : `Row ${row} of ${rows}`;
    Promise.all([
      forUser.publishProgress({ percent, title: 'Importing ToDos', description }),
      forUser.publishTaskProgress(taskId, { percent, progress: [row, rows], description }),
    ]).catch(log);
    if (row < rows) setTimeout(step, durationMs / rows).unref();
  };
  setTimeout(step, durationMs / rows).unref();
  return taskId;
}
