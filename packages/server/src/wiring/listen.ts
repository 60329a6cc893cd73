import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { Config } from '../config/schema.js';

/** Removes a unix socket left by a server that did not stop cleanly. */
export function removeStaleSocket(path: string): void {
  if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
}

/** Listens on --uds, or --port (and --host); the error names where and what to do. */
export function listen(http: HttpServer, config: Config): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const where = config.uds ?? `port ${config.port}`;
      const hint =
        error.code === 'EADDRINUSE'
          ? `${where} is in use: stop the other server or choose another --port`
          : error.code === 'EACCES'
            ? `not allowed to listen on ${where}`
            : error.message;
      reject(new Error(`cannot listen on ${where}: ${hint}`, { cause: error }));
    };
    http.once('error', onError);
    const done = () => {
      http.off('error', onError);
      resolve();
    };
    if (config.uds) {
      removeStaleSocket(config.uds);
      http.listen(config.uds, done);
    } else if (config.host) {
      http.listen(config.port, config.host, done);
    } else {
      http.listen(config.port, done);
    }
  });
}
