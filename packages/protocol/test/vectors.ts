import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The spec's test vectors: `../shared/spec/vectors` beside the repository, or HERALD_SPEC_DIR. */
export function loadVectors<T>(name: string): T {
  const dir =
    process.env.HERALD_SPEC_DIR ??
    fileURLToPath(new URL('../../../../shared/spec/vectors/', import.meta.url));
  return JSON.parse(readFileSync(`${dir.replace(/\/$/, '')}/${name}`, 'utf8')) as T;
}
