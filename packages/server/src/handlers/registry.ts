import { HeraldError } from '../errors.js';
import { CORE_EVENTS } from '../rooms/core-handlers.js';
import type { Handler, HandlerModule, HandlerOptions } from './types.js';

/** A registered handler and the app it belongs to. */
export interface Registration {
  app: string;
  event: string;
  handler: Handler;
  options: HandlerOptions;
}

const RESERVED = new Set<string>([
  ...CORE_EVENTS,
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
]);

/**
 * Every app's handlers, by event, in registration order. An app's set is replaced as a whole when
 * its module is loaded again (development reload), so sockets use the new code from their next event.
 */
export class HandlerRegistry {
  #byApp = new Map<string, Registration[]>();
  #byEvent = new Map<string, Registration[]>();

  /** Runs an app's module and replaces that app's handlers with what it registered. */
  async define(app: string, module: HandlerModule): Promise<number> {
    const registered: Registration[] = [];
    await module({
      on: (event, handler, options = {}) => {
        if (typeof event !== 'string' || event === '')
          throw new HeraldError(
            'HERALD_BAD_ARGUMENT',
            `app ${app}: an event name must be a non-empty string`,
          );
        if (RESERVED.has(event)) {
          throw new HeraldError(
            'HERALD_BAD_ARGUMENT',
            `app ${app}: "${event}" is a core event and cannot be handled by an app`,
            {
              hint: 'choose another event name, e.g. prefixed with the app name',
            },
          );
        }
        if (typeof handler !== 'function')
          throw new HeraldError(
            'HERALD_BAD_ARGUMENT',
            `app ${app}: the handler of "${event}" is not a function`,
          );
        registered.push({ app, event, handler, options });
      },
    });
    this.#byApp.set(app, registered);
    this.#index();
    return registered.length;
  }

  /** The handlers of an event, in registration order. */
  handlersOf(event: string): readonly Registration[] {
    return this.#byEvent.get(event) ?? [];
  }

  /** Every event some app handles. */
  events(): string[] {
    return [...this.#byEvent.keys()];
  }

  #index(): void {
    const byEvent = new Map<string, Registration[]>();
    for (const registrations of this.#byApp.values()) {
      for (const registration of registrations) {
        const list = byEvent.get(registration.event) ?? [];
        list.push(registration);
        byEvent.set(registration.event, list);
      }
    }
    this.#byEvent = byEvent;
  }
}
