import { readFileSync } from 'node:fs';

/** Herald's version, from the server package's package.json. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
