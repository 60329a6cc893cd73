import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HeraldError } from '../errors.js';
import { type Config, type ConfigKey, configSchema } from './schema.js';
import { BENCH_DEFAULT_REDIS, SETTING_LIST, SETTINGS } from './settings.js';

type Layer = Partial<Record<ConfigKey, unknown>>;

/** Where the configuration comes from; strongest first: flags, environment, file, bench. */
export interface ConfigSources {
  /** Parsed command-line flags, by setting name; `config` names a JSON file. */
  flags?: Layer & { config?: string | undefined };
  env?: Readonly<Record<string, string | undefined>>;
}

/** A validated configuration and, for each setting, where its value came from. */
export interface LoadedConfig {
  config: Config;
  sources: Partial<Record<ConfigKey, string>>;
}

function invalid(lines: string[]): HeraldError {
  return new HeraldError(
    'HERALD_CONFIG_INVALID',
    `invalid configuration:\n  ${lines.join('\n  ')}`,
  );
}

function readJson(path: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw invalid([`cannot read ${what} ${path}: ${(error as Error).message}`]);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw invalid([`${what} ${path} is not a JSON object: ${(error as Error).message}`]);
  }
}

/** A Frappe bench's settings: config.json, then sites/common_site_config.json (falsy values count). */
export function readBench(dir: string): Layer {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw invalid([
      `bench = ${JSON.stringify(dir)}: no such directory (expected a Frappe bench folder)`,
    ]);
  }
  const merged: Record<string, unknown> = {};
  for (const file of [join(dir, 'config.json'), join(dir, 'sites', 'common_site_config.json')]) {
    if (existsSync(file)) Object.assign(merged, readJson(file, 'bench file'));
  }
  const layer: Layer = { redis: BENCH_DEFAULT_REDIS };
  for (const setting of SETTING_LIST) {
    if (setting.bench && merged[setting.bench] !== undefined && merged[setting.bench] !== null) {
      layer[setting.key] = merged[setting.bench];
    }
  }
  return layer;
}

function envLayer(env: Readonly<Record<string, string | undefined>>): {
  layer: Layer;
  names: Partial<Record<ConfigKey, string>>;
} {
  const layer: Layer = {};
  const names: Partial<Record<ConfigKey, string>> = {};
  for (const setting of SETTING_LIST) {
    const name = setting.env.find(
      (candidate) => env[candidate] !== undefined && env[candidate] !== '',
    );
    if (name) {
      layer[setting.key] = env[name];
      names[setting.key] = `environment ${name}`;
    }
  }
  return { layer, names };
}

/** Loads, merges and validates the configuration; throws HERALD_CONFIG_INVALID naming each bad key. */
export function loadConfig({ flags = {}, env = {} }: ConfigSources = {}): LoadedConfig {
  const { config: configFile, ...flagLayer } = flags;
  const fromEnv = envLayer(env);
  const filePath = configFile ?? env.HERALD_CONFIG;
  const fileLayer: Layer = filePath ? (readJson(filePath, 'config file') as Layer) : {};
  const benchDir = (flagLayer.bench ?? fromEnv.layer.bench ?? fileLayer.bench) as
    | string
    | undefined;
  const benchLayer = benchDir ? readBench(benchDir) : {};

  const merged: Layer = {};
  const sources: Partial<Record<ConfigKey, string>> = {};
  const layers: [Layer, (key: ConfigKey) => string][] = [
    [benchLayer, () => `bench ${benchDir}`],
    [fileLayer, () => `config file ${filePath}`],
    [fromEnv.layer, (key) => fromEnv.names[key] ?? 'environment'],
    [flagLayer, (key) => `flag ${SETTINGS[key]?.flag.split(' ')[0] ?? key}`],
  ];
  for (const [layer, source] of layers) {
    for (const [key, value] of Object.entries(layer) as [ConfigKey, unknown][]) {
      if (value === undefined) continue;
      merged[key] = value;
      sources[key] = source(key);
    }
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const known = Object.keys(SETTINGS).join(', ');
    throw invalid(
      parsed.error.issues.map((issue) => {
        if (issue.code === 'unrecognized_keys') {
          return `unknown setting ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} in ${sources[issue.keys[0] as ConfigKey] ?? `config file ${filePath}`}; known settings: ${known}`;
        }
        const key = String(issue.path[0] ?? '');
        const value = merged[key as ConfigKey];
        const where = sources[key as ConfigKey] ?? 'default';
        return `${key} = ${JSON.stringify(value)} (from ${where}): ${issue.message}`;
      }),
    );
  }
  return { config: parsed.data, sources };
}
