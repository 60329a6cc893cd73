import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Backchannel } from '../auth/backchannel.js';
import { logFields } from '../errors.js';
import type { Logger } from '../logger.js';
import type { HeraldSocket } from '../session.js';
import { requirePermission } from './permission-check.js';
import { answer, failure } from './reply.js';

type LegacyHandler = (socket: HeraldSocket) => void;

/**
 * Upstream's Node handlers: `<bench>/apps/<app>/realtime/handlers.js`, a CommonJS module exporting
 * `function (socket)`, called for each app installed on the connecting site. Loaded once per
 * process; a load or setup error is logged with the app's name and never stops the server.
 * `frappe` is skipped: its handlers are Herald's own.
 */
export class LegacyHandlers {
  readonly #bench: string;
  readonly #log: Logger;
  readonly #loaded = new Map<string, LegacyHandler | null>();
  readonly #require = createRequire(import.meta.url);

  constructor(benchDir: string, logger: Logger) {
    this.#bench = benchDir;
    this.#log = logger.child({ component: 'legacy-handlers' });
  }

  /** The handler of an app, loaded on first use; null when it has none or it failed to load. */
  handlerOf(app: string): LegacyHandler | null {
    const known = this.#loaded.get(app);
    if (known !== undefined) return known;
    let handler: LegacyHandler | null = null;
    const file = join(this.#bench, 'apps', app, 'realtime', 'handlers.js');
    if (/^[\w.-]+$/.test(app) && existsSync(file)) {
      try {
        const loaded: unknown = this.#require(file);
        const fn =
          typeof loaded === 'function' ? loaded : (loaded as { default?: unknown } | null)?.default;
        if (typeof fn === 'function') {
          handler = fn as LegacyHandler;
          this.#log.info({ app, file }, 'loaded legacy realtime handlers');
        } else {
          this.#log.warn(
            { ...logFields('HERALD_HANDLER_LOAD_FAILED'), app, file },
            'legacy handlers.js does not export a function; skipped',
          );
        }
      } catch (error) {
        this.#log.warn(
          { ...logFields('HERALD_HANDLER_LOAD_FAILED'), app, file, err: error },
          `failed to load the realtime handlers of app ${app}; skipped`,
        );
      }
    }
    this.#loaded.set(app, handler);
    return handler;
  }

  /** Gives the socket upstream's fields and calls each installed app's handler with it. */
  attach(socket: HeraldSocket, backchannel: Backchannel): void {
    const session = socket.data;
    const apps = session.installedApps.filter((app) => app !== 'frappe');
    const handlers = apps
      .map((app) => [app, this.handlerOf(app)] as const)
      .filter(([, fn]) => fn !== null);
    if (handlers.length === 0) return;
    const credentials = session.credentials;
    // The app event whose listener is running (for has_permission's answer to the client).
    let current: string | undefined;
    Object.assign(socket, {
      user: session.user,
      user_type: session.userType,
      installed_apps: session.installedApps,
      sid: credentials.kind === 'sid' ? credentials.sid : credentials.sid,
      authorization_header:
        credentials.kind === 'authorization' ? credentials.authorization : undefined,
      site_name: session.site,
      /** Upstream's helper: a fetch to the web server with this socket's credentials. */
      frappe_request: async (
        path: string,
        args: Record<string, string> = {},
        opts: RequestInit = {},
      ) => {
        const query = new URLSearchParams(args).toString();
        const headers = await backchannel.headers(session.backchannel);
        return fetch(`${session.backchannel.base}${path}${query ? `?${query}` : ''}`, {
          ...opts,
          headers: { ...headers, ...(opts.headers as Record<string, string> | undefined) },
        });
      },
      /**
       * Upstream's contract: the promise resolves (with true) only when the web server allows read
       * permission, and never settles otherwise. Apps write
       * `socket.has_permission(dt, dn).then(() => socket.join(room))`: a promise that resolved on a
       * denial would join the room. A denial or a failed check is logged and answered to the client
       * as a core event's is (`herald_error` naming the app's event), and never reaches the app.
       */
      has_permission: (doctype: string, name?: string) => {
        const event = current ?? 'has_permission';
        return new Promise<true>((resolve) => {
          requirePermission(socket, backchannel, [doctype, name]).then(
            () => resolve(true),
            (error: unknown) => {
              const reply = failure(error);
              this.#log.info(
                {
                  site: session.site,
                  user: session.user,
                  socket: socket.id,
                  event,
                  doctype,
                  name,
                  error: reply.ok ? undefined : reply.error.code,
                },
                'legacy handler: permission refused; the app handler does not go on',
              );
              answer(socket, event, undefined, reply);
            },
          );
        });
      },
    });
    const on = socket.on;
    for (const [app, handler] of handlers) {
      // Listeners the app registers are guarded: a throwing or rejecting one is logged, never fatal.
      socket.on = ((event: string, listener: (...args: unknown[]) => unknown) =>
        on.call(socket, event, (...args: unknown[]) => {
          // Over the socket's rate limit: the core listener, which runs first, answered it.
          if ((session.rate?.refused ?? 0) > 0) return;
          const fail = (error: unknown) =>
            this.#log.warn(
              { app, event, err: error, site: session.site, user: session.user },
              `realtime handler of app ${app} failed`,
            );
          current = event;
          try {
            const result = listener.apply(socket, args);
            if (result instanceof Promise) result.catch(fail);
          } catch (error) {
            fail(error);
          } finally {
            current = undefined;
          }
        })) as typeof socket.on;
      try {
        handler!(socket);
      } catch (error) {
        this.#log.warn(
          { app, err: error, site: session.site },
          `failed to set up the realtime handlers of app ${app}`,
        );
      } finally {
        socket.on = on;
      }
    }
  }
}
