import type { Session } from './auth.js';
import type { SitePublisher } from './publishing.js';
import type { SiteData, Store } from './store.js';

/** Queues a realtime event to go out once the change it belongs to is written. */
export type PublishAfterCommit = SitePublisher['publishRealtime'];

/**
 * Makes a change to a site's data as a user and publishes its events after commit, as Frappe does:
 * an event never announces a change that was not written (a throwing change rolls them back).
 */
export type Change = <T>(
  site: string,
  session: Session,
  apply: (data: SiteData, publish: PublishAfterCommit) => T,
) => Promise<T>;

/** The `Change` of a store, publishing through each site's publisher. */
export function createChange(store: Store, publisherFor: (site: string) => SitePublisher): Change {
  return async <T>(
    site: string,
    session: Session,
    apply: (data: SiteData, publish: PublishAfterCommit) => T,
  ): Promise<T> => {
    const tx = publisherFor(site).withContext({ user: session.user }).transaction();
    let result: T;
    try {
      result = store.transaction(site, (data) =>
        apply(data, (args) => tx.publishRealtime({ ...args, afterCommit: true })),
      );
    } catch (failure) {
      tx.rollback();
      throw failure;
    }
    await tx.commit();
    return result;
  };
}
