import type { ProgressArgs, PublishArgs } from '@herald/protocol';

/** A publish scope whose after-commit publishes wait for `commit()` (the publisher package's). */
export interface PublishTransaction {
  publishRealtime(args: PublishArgs): Promise<unknown>;
  commit(): Promise<unknown>;
  rollback(): unknown;
}

/** What the demo needs of `@herald/publisher` for one site. */
export interface SitePublisher {
  withContext(context: { user?: string; taskId?: string }): SitePublisher;
  transaction(): PublishTransaction;
  publishRealtime(args: PublishArgs): Promise<unknown>;
  publishProgress(args: ProgressArgs): Promise<unknown>;
  publishTaskProgress(taskId: string, message?: unknown): Promise<unknown>;
}
