import type { Backchannel } from '../auth/backchannel.js';
import { detailOf } from '../auth/backend-error.js';
import { asHeraldError, ERRORS, HeraldError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { HeraldSocket } from '../session.js';

/** What the web server answers a forwarded event with (top level, or inside Frappe's `message`). */
interface Actions {
  join?: unknown;
  leave?: unknown;
  emit?: unknown;
  reply?: unknown;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : [];

/**
 * Handlers in the web backend: `--forward EVENT=PATH` POSTs the event to `<backend><PATH>` with the
 * socket's credentials, `X-Frappe-Socket-Secret` and `X-Frappe-Site-Name`, and a JSON body
 * `{event, args, socket: {id, user, userType, rooms}}`. The answer's actions are applied:
 * `join`/`leave` rooms, `emit` `[{event, data, room?}]` (no room: this client), and `reply` goes to
 * the acknowledgement. Joins happen only because the backend said so.
 */
export class Forwarder {
  readonly #routes: Map<string, string>;
  readonly #backchannel: Backchannel;
  readonly #log: Logger;

  constructor(routes: Map<string, string>, backchannel: Backchannel, logger: Logger) {
    this.#routes = routes;
    this.#backchannel = backchannel;
    this.#log = logger.child({ component: 'forward' });
  }

  /** Parses `EVENT=PATH` settings. */
  static parse(specs: readonly string[]): Map<string, string> {
    const routes = new Map<string, string>();
    for (const spec of specs) {
      const eq = spec.indexOf('=');
      routes.set(spec.slice(0, eq), spec.slice(eq + 1));
    }
    return routes;
  }

  /** Whether an event is forwarded. */
  handles(event: string): boolean {
    return this.#routes.has(event);
  }

  /** Forwards one event and applies the answer; returns the reply for the acknowledgement. */
  async forward(socket: HeraldSocket, event: string, args: unknown[]): Promise<unknown> {
    const path = this.#routes.get(event)!;
    const session = socket.data;
    const body = {
      event,
      args,
      socket: {
        id: socket.id,
        user: session.user,
        userType: session.userType,
        rooms: [...socket.rooms].filter((r) => r !== socket.id),
      },
    };
    let answer: Awaited<ReturnType<Backchannel['post']>>;
    try {
      answer = await this.#backchannel.post(session.backchannel, path, body);
    } catch (error) {
      const cause = asHeraldError(error);
      this.#log.warn(
        { event, path, err: detailOf(cause), site: session.site },
        'forwarded event failed',
      );
      // The client gets the code and the catalogue's words; the URL and reason are in the log.
      const code = cause.code === 'HERALD_INTERNAL' ? 'HERALD_FORWARD_FAILED' : cause.code;
      throw new HeraldError(code, `${event}: ${ERRORS[code].message}`, { hint: cause.hint });
    }
    if (answer.status < 200 || answer.status >= 300) {
      this.#log.warn(
        { event, url: answer.url, status: answer.status, site: session.site },
        `forwarded event refused by the backend: HTTP ${answer.status} for ${answer.url}`,
      );
      throw new HeraldError(
        'HERALD_FORWARD_FAILED',
        `${event}: ${ERRORS.HERALD_FORWARD_FAILED.message}`,
      );
    }
    const outer = (answer.body ?? {}) as Actions & { message?: Actions };
    const actions: Actions =
      outer.message && typeof outer.message === 'object' ? outer.message : outer;
    if (socket.connected) for (const room of strings(actions.join)) socket.join(room);
    for (const room of strings(actions.leave)) socket.leave(room);
    for (const item of Array.isArray(actions.emit) ? actions.emit : []) {
      const {
        event: name,
        data,
        room,
      } = (item ?? {}) as { event?: unknown; data?: unknown; room?: unknown };
      if (typeof name !== 'string' || name === '') continue;
      if (typeof room === 'string' && room !== '') socket.nsp.to(room).emit(name, data);
      else socket.emit(name, data);
    }
    return actions.reply;
  }
}
