/** Room names of section 4. They live inside the site's namespace. */

/** Every socket of a user (all guests share `user:Guest`). */
export const userRoom = (user: string): string => `user:${user}`;
/** Subscribers of a doctype's list. */
export const doctypeRoom = (doctype: string): string => `doctype:${doctype}`;
/** Subscribers of one document. */
export const docRoom = (doctype: string, docname: string | number): string =>
  `doc:${doctype}/${docname}`;
/** Sockets that have a document open (presence). */
export const openDocRoom = (doctype: string, docname: string | number): string =>
  `open_doc:${doctype}/${docname}`;
/** Listeners of a background task's progress. */
export const taskRoom = (taskId: string): string => `task_progress:${taskId}`;
/** Every socket of a site, guests included. */
export const WEBSITE_ROOM = 'website';
/** Every System User socket of a site. */
export const ALL_ROOM = 'all';
/** The user type that joins the `all` room. */
export const SYSTEM_USER = 'System User';
/** The user of an anonymous session. */
export const GUEST = 'Guest';

/** The rooms a socket joins at connect (section 4). */
export function autoRooms(user: string, userType: string | undefined): string[] {
  const rooms = [userRoom(user), WEBSITE_ROOM];
  if (userType === SYSTEM_USER) rooms.push(ALL_ROOM);
  return rooms;
}
