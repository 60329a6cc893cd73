import { existsSync, readdirSync, watch } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { logFields } from '../errors.js';
import type { Logger } from '../logger.js';
import type { HandlerRegistry } from './registry.js';
import type { HandlerModule } from './types.js';

/** Where an app's handler module is. */
export interface HandlerSource {
  app: string;
  file: string;
}

const EXTENSIONS = ['ts', 'mts', 'js', 'mjs'];

/**
 * Handler modules to load: `--handlers app=PATH`, and in a bench each app's
 * `apps/<app>/<app>/realtime/handlers.{ts,mts,js,mjs}` (beside where Frappe's Python handlers live;
 * `apps/<app>/realtime/handlers.js` is upstream's legacy format, loaded separately).
 */
export function findHandlerSources(
  specs: readonly string[],
  bench: string | undefined,
): HandlerSource[] {
  const sources: HandlerSource[] = specs.map((spec) => {
    const eq = spec.indexOf('=');
    return { app: spec.slice(0, eq), file: resolve(spec.slice(eq + 1)) };
  });
  if (bench && existsSync(join(bench, 'apps'))) {
    for (const app of readdirSync(join(bench, 'apps')).sort()) {
      if (sources.some((s) => s.app === app)) continue;
      const file = EXTENSIONS.map((ext) =>
        join(bench, 'apps', app, app, 'realtime', `handlers.${ext}`),
      ).find(existsSync);
      if (file) sources.push({ app, file: resolve(file) });
    }
  }
  return sources;
}

function moduleFunction(loaded: unknown): HandlerModule | undefined {
  let value = loaded as { default?: unknown } | undefined;
  for (let depth = 0; depth < 3 && value && typeof value !== 'function'; depth += 1) {
    value = value.default as { default?: unknown } | undefined;
  }
  return typeof value === 'function' ? (value as HandlerModule) : undefined;
}

/**
 * Loads handler modules into the registry (TypeScript through tsx, no build step). A module that
 * fails to load or to register is logged with its app and file and skipped; the server goes on.
 * With `dev`, each file is watched and loaded again on change, for sockets already connected too.
 */
export class HandlerLoader {
  readonly #registry: HandlerRegistry;
  readonly #log: Logger;
  readonly #watchers: ReturnType<typeof watch>[] = [];
  #version = 0;

  constructor(registry: HandlerRegistry, logger: Logger) {
    this.#registry = registry;
    this.#log = logger.child({ component: 'handlers' });
  }

  /** Loads (or reloads) one module; resolves true when its handlers are in place. */
  async load(source: HandlerSource): Promise<boolean> {
    this.#version += 1;
    try {
      const url = `${pathToFileURL(source.file).href}?v=${this.#version}`;
      const fn = moduleFunction(await tsImport(url, import.meta.url));
      if (!fn)
        throw new Error(
          'the module has no default export function (realtime) => { realtime.on(...) }',
        );
      const count = await this.#registry.define(source.app, fn);
      this.#log.info(
        { app: source.app, file: source.file, handlers: count },
        `loaded the realtime handlers of app ${source.app}`,
      );
      return true;
    } catch (error) {
      this.#log.error(
        {
          ...logFields('HERALD_HANDLER_LOAD_FAILED'),
          app: source.app,
          file: source.file,
          err: error,
        },
        `failed to load the realtime handlers of app ${source.app}; skipped`,
      );
      return false;
    }
  }

  /** Loads every source, and with `dev` watches them. */
  async loadAll(sources: readonly HandlerSource[], dev: boolean): Promise<void> {
    for (const source of sources) {
      await this.load(source);
      if (dev) this.#watch(source);
    }
  }

  #watch(source: HandlerSource): void {
    let timer: NodeJS.Timeout | undefined;
    // The folder is watched, not the file: editors often replace a file instead of writing it.
    const watcher = watch(dirname(source.file), (_event, name) => {
      if (name !== null && String(name) !== basename(source.file)) return;
      // Editors write in several steps: reload once the file has settled.
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.#log.info({ app: source.app, file: source.file }, 'handler file changed; reloading');
        void this.load(source);
      }, 100);
    });
    watcher.on('error', (error) =>
      this.#log.warn({ file: source.file, err: error }, 'cannot watch the handler file'),
    );
    this.#watchers.push(watcher);
  }

  /** Stops watching. */
  close(): void {
    for (const watcher of this.#watchers) watcher.close();
  }
}
