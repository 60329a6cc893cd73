import { ALL_ROOM, docRoom, doctypeRoom, taskRoom, userRoom, WEBSITE_ROOM } from './rooms.js';
import type { EventMessage } from './wire.js';

/** The arguments of `publish_realtime`, in TypeScript spelling. */
export interface PublishArgs {
  event?: string | null | undefined;
  message?: unknown;
  room?: string | null | undefined;
  user?: string | null | undefined;
  doctype?: string | null | undefined;
  docname?: string | number | null | undefined;
  taskId?: string | null | undefined;
  afterCommit?: boolean | undefined;
}

/** Who publishes: the site, the session user and the id of the background job running, if any. */
export interface PublishContext {
  site: string;
  sessionUser?: string | null | undefined;
  jobTaskId?: string | null | undefined;
}

/** A publish after the rules: what goes on the wire, and whether it waits for the commit. */
export interface ResolvedPublish {
  message: EventMessage;
  afterCommit: boolean;
}

const present = <T>(value: T | null | undefined | ''): value is T =>
  value !== undefined && value !== null && value !== '';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Applies the publish rules of section 7 (steps 1 to 6) to one `publish_realtime` call. */
export function resolvePublish(args: PublishArgs, context: PublishContext): ResolvedPublish {
  let message: unknown = args.message ?? {};
  const taskId = present(args.taskId) ? args.taskId : context.jobTaskId;
  const event = present(args.event) ? args.event : present(taskId) ? 'task_progress' : 'global';
  let afterCommit = args.afterCommit === true;
  let user = args.user;
  let doctype = args.doctype;
  const docname = args.docname;
  let room = args.room;

  if (event === 'msgprint' && !present(user)) user = context.sessionUser;
  if (event === 'list_update') {
    if (!present(doctype) && isPlainObject(message) && typeof message.doctype === 'string') {
      doctype = message.doctype;
    }
    room = present(doctype) ? doctypeRoom(doctype) : room;
  } else if (event === 'docinfo_update' && present(doctype) && present(docname)) {
    room = docRoom(doctype, docname);
  }

  if (!present(room)) {
    if (present(taskId)) {
      afterCommit = false;
      if (isPlainObject(message) && !('task_id' in message))
        message = { ...message, task_id: taskId };
      room = taskRoom(taskId);
    } else if (present(user)) {
      room = userRoom(user);
    } else if (present(doctype) && present(docname)) {
      room = docRoom(doctype, docname);
    } else {
      room = ALL_ROOM;
    }
  }
  return { message: { event, message, room, namespace: context.site }, afterCommit };
}

/** The arguments of `publish_progress`. */
export interface ProgressArgs {
  percent: number;
  title?: string | null | undefined;
  description?: string | null | undefined;
  doctype?: string | null | undefined;
  docname?: string | number | null | undefined;
  taskId?: string | null | undefined;
}

/** `publish_progress`: a `progress` event to the task, else the document, else the session user. */
export function resolveProgress(args: ProgressArgs, context: PublishContext): ResolvedPublish {
  const onDoc = present(args.doctype) && present(args.docname);
  return resolvePublish(
    {
      event: 'progress',
      message: {
        percent: args.percent,
        title: args.title ?? null,
        description: args.description ?? null,
      },
      user: onDoc ? undefined : context.sessionUser,
      doctype: args.doctype,
      docname: args.docname,
      taskId: args.taskId,
    },
    context,
  );
}

/** The named helpers of section 7, as `publish_realtime` arguments. */
export const publishHelpers = {
  toUser: (user: string, event: string, message?: unknown): PublishArgs => ({
    event,
    message,
    room: userRoom(user),
  }),
  toDoc: (
    doctype: string,
    docname: string | number,
    event: string,
    message?: unknown,
  ): PublishArgs => ({
    event,
    message,
    room: docRoom(doctype, docname),
  }),
  toDoctype: (doctype: string, event: string, message?: unknown): PublishArgs => ({
    event,
    message,
    room: doctypeRoom(doctype),
  }),
  taskProgress: (taskId: string, message?: unknown): PublishArgs => ({
    event: 'task_progress',
    message,
    taskId,
  }),
  toWebsite: (event: string, message?: unknown): PublishArgs => ({
    event,
    message,
    room: WEBSITE_ROOM,
  }),
  toAll: (event: string, message?: unknown): PublishArgs => ({ event, message, room: ALL_ROOM }),
  toRoom: (room: string, event: string, message?: unknown): PublishArgs => ({
    event,
    message,
    room,
  }),
};
