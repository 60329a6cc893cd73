import { isIP } from 'node:net';
import { normalizeHostName } from '@herald/protocol';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const integer = (min: number, max: number) =>
  z.coerce
    .number({ error: `expected a whole number from ${min} to ${max}` })
    .int({ error: `expected a whole number from ${min} to ${max}` })
    .min(min, { error: `expected a whole number from ${min} to ${max}` })
    .max(max, { error: `expected a whole number from ${min} to ${max}` });

/** true/false, 1/0, yes/no, on/off: Frappe's config files write 0 and 1. */
const flag = z.union([z.boolean(), z.number(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(text)) return false;
  ctx.addIssue({ code: 'custom', message: 'expected true/false or 1/0' });
  return z.NEVER;
});

/** A CIDR block (`10.0.0.0/8`, `::1/128`) or a single address. */
export function parseCidr(
  text: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > max ||
    (prefixText !== undefined && !/^\d+$/.test(prefixText))
  ) {
    return undefined;
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

const cidr = z.string().refine((value) => parseCidr(value) !== undefined, {
  error: 'expected an IP address or a CIDR block such as 10.0.0.0/8 or ::1/128',
});

const httpUrl = z.string().refine(
  (value) => {
    try {
      return ['http:', 'https:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  },
  { error: 'expected an http:// or https:// URL such as http://127.0.0.1:8000' },
);

const origin = z.string().refine(
  (value) => {
    try {
      return new URL(value).origin !== 'null';
    } catch {
      return false;
    }
  },
  { error: 'expected an origin such as https://app.example.com' },
);

/** A bare host name or IP address: no scheme, port or path (see normalizeHostName). */
const hostName = z.string().refine((value) => normalizeHostName(value) !== undefined, {
  error: 'expected a host name or IP address without scheme, port or path, such as erp.example.com',
});

const redisUrl = z.string().refine((value) => /^(redis|rediss|unix):\/\/./.test(value), {
  error: 'expected a redis://, rediss:// or unix:// URL such as redis://127.0.0.1:6379',
});

const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(/[\s,]+/)
            .map((part) => part.trim())
            .filter(Boolean)
        : value,
    z.array(item),
  );

/** Every setting of `herald serve`, validated, with its default. */
export const configSchema = z
  .strictObject({
    port: integer(0, 65535).default(9000),
    host: z.string().min(1).optional(),
    uds: z.string().min(1).optional(),
    redis: redisUrl.optional(),
    backend: httpUrl.optional(),
    backendOriginHosts: list(hostName).default([]),
    webserverHost: z.string().min(1).optional(),
    webserverPort: integer(1, 65535).optional(),
    developerMode: flag.default(false),
    defaultSite: z.string().min(1).optional(),
    trustedProxies: list(cidr).default(['127.0.0.0/8', '::1/128']),
    allowedOrigins: list(origin).default([]),
    backendTimeoutMs: integer(1, 600_000).default(5000),
    socketSecret: z.string().optional(),
    bench: z.string().min(1).optional(),
    logLevel: z
      .enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` })
      .default('info'),
    logFormat: z.enum(['json', 'pretty'], { error: 'expected json or pretty' }).optional(),
    shutdownTimeoutMs: integer(0, 600_000).default(10_000),
    recoveryWindowMs: integer(0, 3_600_000).default(120_000),
    handlers: list(
      z.string().regex(/^[\w.-]+=.+$/, {
        error: 'expected APP=PATH, e.g. projects=./realtime/handlers.ts',
      }),
    ).default([]),
    forward: list(
      z.string().regex(/^[^=\s]+=\/\S*$/, {
        error:
          'expected EVENT=PATH with PATH starting with /, e.g. project_subscribe=/api/method/projects.realtime.subscribe',
      }),
    ).default([]),
    dev: flag.default(false),
    adminUi: flag.default(false),
    demo: flag.default(false),
    demoData: z.string().min(1).default('.herald-demo'),
    apiKeys: list(z.string().min(16, { error: 'expected at least 16 characters' })).default([]),
    apiKeyFile: z.string().min(1).optional(),
    maxMessageBytes: integer(1024, 512 * 1024 * 1024).default(8 * 1024 * 1024),
    writeCoalescing: flag.default(true),
    directRequests: flag.default(true),
    viewersIntervalMs: integer(0, 60_000).default(100),
    identityCacheTtlMs: integer(0, 3_600_000).default(30_000),
    permissionCacheTtlMs: integer(0, 3_600_000).default(30_000),
    denyCacheTtlMs: integer(0, 3_600_000).default(5_000),
    rateLimit: integer(0, 1_000_000).default(100),
    rateBurst: integer(1, 1_000_000).default(200),
    maxRooms: integer(10, 1_000_000).default(1000),
    maxOpenDocs: integer(1, 1_000_000).default(100),
    maxNameLength: integer(16, 100_000).default(140),
    maxOutgoingBytes: integer(64 * 1024, 1024 * 1024 * 1024).default(16 * 1024 * 1024),
    maxHeldRooms: integer(1000, 100_000_000).default(500_000),
    adminToken: z.string().min(16, { error: 'expected at least 16 characters' }).optional(),
    cluster: flag.default(false),
    clusterRedis: list(redisUrl).default([]),
    clusterPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, {
        error: 'expected 1 to 64 letters, digits, _, . or -, such as herald',
      })
      .default('herald'),
    clusterStreamLength: integer(1000, 100_000_000).default(20_000),
    nodeId: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,100}$/, {
        error: 'expected 1 to 100 letters, digits, _, ., : or -, such as web1',
      })
      .optional(),
    workers: z
      .union([z.literal('auto'), integer(1, 256)], {
        error: 'expected auto or a whole number from 1 to 256',
      })
      .optional(),
    pidFile: z.string().min(1).optional(),
  })
  .superRefine((config, ctx) => {
    if (config.maxOutgoingBytes < config.maxMessageBytes) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxOutgoingBytes'],
        message: `must be at least maxMessageBytes (${config.maxMessageBytes}): one event could not be written to any socket`,
      });
    }
    if (config.cluster && !config.redis && config.clusterRedis.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['cluster'],
        message:
          'cluster mode needs Redis: give --redis redis://HOST:PORT (or --cluster-redis), the Redis every node shares',
      });
    }
    if (config.workers !== undefined && !config.cluster) {
      ctx.addIssue({
        code: 'custom',
        path: ['workers'],
        message:
          'workers are nodes of a cluster: add --cluster and --redis redis://HOST:PORT (every worker shares its events, sessions and presence)',
      });
    }
    if (config.denyCacheTtlMs > config.permissionCacheTtlMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['denyCacheTtlMs'],
        message: `a denial must not be cached longer than an allow (permissionCacheTtlMs is ${config.permissionCacheTtlMs})`,
      });
    }
  });

/** The validated configuration of a Herald server. */
export type Config = z.output<typeof configSchema>;
/** A configuration before validation and defaults (what tests and embedders pass). */
export type ConfigInput = z.input<typeof configSchema>;
/** A setting's name. */
export type ConfigKey = keyof Config;
