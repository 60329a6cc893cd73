/** `doc_viewers`: who has a document open. */
export interface DocViewers {
  doctype: string;
  docname: string;
  users: string[];
}
/** `doc_update`: a document was saved. */
export interface DocUpdate {
  modified: string;
  doctype: string;
  name: string | number;
}
/** `list_update`: a document of a list changed. */
export interface ListUpdate {
  doctype: string;
  name: string | number;
  user?: string;
}
/** `docinfo_update`: comments, likes, assignments, attachments or communications changed. */
export interface DocinfoUpdate {
  doc: Record<string, unknown>;
  key: 'comments' | 'like_logs' | 'assignment_logs' | 'attachment_logs' | 'communications' | string;
  action: 'add' | 'update' | 'delete' | string;
}
/** `progress`: a progress bar (`percent`, or `progress: [current, total]`). */
export interface Progress {
  percent?: number;
  progress?: [number, number];
  title?: string | null;
  description?: string | null;
  task_id?: string;
}
/** `msgprint`: a message for the user. */
export type Msgprint =
  | string
  | { message: string; title?: string; indicator?: string; [key: string]: unknown };
/** `task_progress`: a background task's progress. */
export interface TaskProgress {
  task_id?: string;
  percent?: number;
  progress?: [number, number];
  [key: string]: unknown;
}

/** The core events and their payloads; other events carry `unknown`. */
export interface CoreEvents {
  doc_viewers: DocViewers;
  doc_update: DocUpdate;
  list_update: ListUpdate;
  docinfo_update: DocinfoUpdate;
  progress: Progress;
  msgprint: Msgprint;
  task_progress: TaskProgress;
}

/** The payload type of an event. */
export type EventData<E extends string> = E extends keyof CoreEvents ? CoreEvents[E] : unknown;
