import { readFileSync } from 'node:fs';
import { HeraldError } from '../errors.js';

/** The API keys of the HTTP publish API: the configured ones and those of the key file (one per line). */
export function loadApiKeys(keys: readonly string[], file: string | undefined): string[] {
  if (!file) return [...keys];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new HeraldError(
      'HERALD_CONFIG_INVALID',
      `apiKeyFile = ${JSON.stringify(file)}: cannot read it (${(error as Error).message})`,
    );
  }
  const fromFile = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const short = fromFile.find((key) => key.length < 16);
  if (short !== undefined) {
    throw new HeraldError(
      'HERALD_CONFIG_INVALID',
      `apiKeyFile = ${JSON.stringify(file)}: every key needs at least 16 characters`,
    );
  }
  return [...keys, ...fromFile];
}
