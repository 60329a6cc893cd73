import { createRealtime, type Realtime, type RealtimeOptions } from './realtime.js';

/** The subset of Frappe's `frappe.realtime` that pages outside the desk use. */
export interface FrappeRealtimeShim {
  socket: Realtime['socket'];
  client: Realtime;
  on(event: string, handler: (data: unknown) => void): void;
  off(event: string, handler?: (data: unknown) => void): void;
  emit(event: string, ...args: unknown[]): void;
  publish(event: string, message?: unknown): void;
  doc_subscribe(doctype: string, docname: string): Promise<void>;
  doc_unsubscribe(doctype: string, docname: string): Promise<void>;
  doc_open(doctype: string, docname: string): Promise<void>;
  doc_close(doctype: string, docname: string): Promise<void>;
  doctype_subscribe(doctype: string): Promise<void>;
  doctype_unsubscribe(doctype: string): Promise<void>;
  task_subscribe(taskId: string): Promise<void>;
  task_unsubscribe(taskId: string): Promise<void>;
}

/** Sets `window.frappe.realtime` to a Herald-backed stand-in, for pages without Frappe's desk. */
export function installFrappeRealtime(options: RealtimeOptions): FrappeRealtimeShim {
  const client = createRealtime({ withCredentials: true, ...options });
  const shim: FrappeRealtimeShim = {
    socket: client.socket,
    client,
    on: (event, handler) => void client.on(event, handler),
    off: (event, handler) => void client.off(event, handler),
    emit: (event, ...args) => void client.emit(event, ...args),
    publish: (event, message) => void client.publish(event, message),
    doc_subscribe: (doctype, docname) => client.docSubscribe(doctype, docname),
    doc_unsubscribe: (doctype, docname) => client.docUnsubscribe(doctype, docname),
    doc_open: (doctype, docname) => client.docOpen(doctype, docname),
    doc_close: (doctype, docname) => client.docClose(doctype, docname),
    doctype_subscribe: (doctype) => client.doctypeSubscribe(doctype),
    doctype_unsubscribe: (doctype) => client.doctypeUnsubscribe(doctype),
    task_subscribe: (taskId) => client.taskSubscribe(taskId),
    task_unsubscribe: (taskId) => client.taskUnsubscribe(taskId),
  };
  const global = globalThis as { frappe?: { realtime?: unknown } };
  global.frappe ??= {};
  global.frappe.realtime = shim;
  return shim;
}
