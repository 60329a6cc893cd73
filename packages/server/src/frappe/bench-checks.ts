/**
 * The checks of a bench's files that need no network: what `herald frappe setup` tells you to fix
 * and the offline part of `herald doctor --bench`. Each names the fault, what it breaks, the fix.
 */
import type { BenchFiles } from './bench-files.js';
import { splitWords } from './command-line.js';
import type { Finding } from './finding.js';
import { heraldConfigOf, sameRedis } from './herald-config.js';
import { checkNginx } from './nginx-check.js';
import { procfileEntries } from './procfile.js';
import type { SocketioSlot } from './socketio-slots.js';
import { supervisorPrograms } from './supervisor.js';

/** One check: its findings, or what it found when there are none. */
export interface BenchCheck {
  name: 'config' | 'redis' | 'port' | 'nginx' | 'webserver';
  passed: string;
  /** Set when the check does not apply to this bench. */
  skipped?: string;
  findings: Finding[];
}

const SITE_CONFIG = 'sites/common_site_config.json';

const port = (value: unknown): number | undefined => {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) && number > 0 && number < 65536
    ? number
    : undefined;
};

/** The bench's socketio_port, or Herald's default when it is not set. */
export function socketioPortOf(bench: BenchFiles): number {
  return port(bench.siteConfig.socketio_port) ?? 9000;
}

/** The bench's webserver_port, or bench's default. */
export function webserverPortOf(bench: BenchFiles): number {
  return port(bench.siteConfig.webserver_port) ?? 8000;
}

function checkSiteConfig(bench: BenchFiles): BenchCheck {
  const findings: Finding[] = [];
  const add = (problem: string, fix: string) => findings.push({ file: SITE_CONFIG, problem, fix });
  if (bench.siteConfigError) {
    add(
      `${bench.siteConfigError}: neither Frappe nor Herald can read the bench's settings`,
      'restore the file (bench init writes it; `bench set-config -g KEY VALUE` edits it)',
    );
  } else {
    const { redis_queue, socketio_port, webserver_port } = bench.siteConfig;
    if (redis_queue === undefined)
      add(
        'redis_queue is not set: the web server has no Redis to publish realtime events to, and Herald falls back to redis://127.0.0.1:11311',
        'bench set-config -g redis_queue redis://127.0.0.1:11000 (the port of config/redis_queue.conf)',
      );
    else if (typeof redis_queue !== 'string' || !/^(redis|rediss|unix):\/\/./.test(redis_queue))
      add(
        `redis_queue is ${JSON.stringify(redis_queue)}, not a redis://, rediss:// or unix:// URL`,
        'bench set-config -g redis_queue redis://127.0.0.1:11000 (the port of config/redis_queue.conf)',
      );
    if (socketio_port === undefined)
      add(
        "socketio_port is not set: Herald listens on 9000, while bench's nginx template sends /socket.io to 3000",
        'bench set-config -g socketio_port 9000, then bench setup nginx',
      );
    else if (port(socketio_port) === undefined)
      add(
        `socketio_port is ${JSON.stringify(socketio_port)}, not a port number`,
        'bench set-config -g socketio_port 9000, then bench setup nginx',
      );
    if (webserver_port === undefined)
      add(
        'webserver_port is not set: bench starts the web server on 8000 and nothing tells Herald so',
        'bench set-config -g webserver_port 8000',
      );
    else if (port(webserver_port) === undefined)
      add(
        `webserver_port is ${JSON.stringify(webserver_port)}, not a port number`,
        'bench set-config -g webserver_port 8000',
      );
  }
  const show = (key: string) => `${key} ${String(bench.siteConfig[key])}`;
  return {
    name: 'config',
    passed: `${SITE_CONFIG}: ${['redis_queue', 'socketio_port', 'webserver_port'].map(show).join(', ')}`,
    findings,
  };
}

function heraldSlots(slots: SocketioSlot[]): SocketioSlot[] {
  return slots.filter((slot) => slot.runner.kind === 'herald');
}

const NO_HERALD = 'no process of this bench runs Herald yet';

function checkRedis(bench: BenchFiles, slots: SocketioSlot[]): BenchCheck {
  const queue = bench.siteConfig.redis_queue;
  const findings: Finding[] = [];
  for (const slot of heraldSlots(slots)) {
    const loaded = heraldConfigOf(slot);
    if (!loaded.ok) {
      findings.push({
        file: slot.file.rel,
        problem: `${slot.label} runs Herald with settings it refuses, so it stops at start: ${loaded.error.replace(/\n\s*/g, ' ')}`,
        fix: `fix that setting in ${slot.file.rel} (herald serve --help says what each one accepts)`,
      });
      continue;
    }
    const redis = loaded.config.redis;
    if (redis === undefined) {
      findings.push({
        file: slot.file.rel,
        problem: `${slot.label} starts Herald without --bench or --redis: it uses its in-memory broker and never sees the events the web server publishes to redis_queue`,
        fix: `add --bench ${bench.dir} to its command (herald frappe setup --bench ${bench.dir} --apply writes it)`,
      });
    } else if (typeof queue === 'string' && !sameRedis(redis, queue)) {
      findings.push({
        file: slot.file.rel,
        problem: `${slot.label} starts Herald on Redis ${redis}, but the web server publishes to redis_queue ${queue} (${SITE_CONFIG}): no event reaches a browser`,
        fix: `drop --redis (and HERALD_REDIS) from its command: with --bench Herald reads redis_queue; or set redis_queue to the Redis Herald uses`,
      });
    }
  }
  return {
    name: 'redis',
    passed: `Herald subscribes to the Redis the web server publishes to (redis_queue ${String(queue)})`,
    ...(heraldSlots(slots).length ? {} : { skipped: NO_HERALD }),
    findings,
  };
}

function checkPort(bench: BenchFiles, slots: SocketioSlot[]): BenchCheck {
  const expected = socketioPortOf(bench);
  const findings: Finding[] = [];
  for (const slot of heraldSlots(slots)) {
    const loaded = heraldConfigOf(slot);
    if (!loaded.ok || loaded.config.uds) continue;
    if (loaded.config.port !== expected) {
      findings.push({
        file: slot.file.rel,
        problem: `${slot.label} starts Herald on port ${loaded.config.port}, but socketio_port is ${expected}: nginx and the desk connect to ${expected}`,
        fix: 'drop --port (and HERALD_PORT) from its command: with --bench Herald listens on socketio_port',
      });
    }
  }
  return {
    name: 'port',
    passed: `Herald listens on socketio_port ${expected}`,
    ...(heraldSlots(slots).length ? {} : { skipped: NO_HERALD }),
    findings,
  };
}

function nginxCheck(bench: BenchFiles): BenchCheck {
  const expected = socketioPortOf(bench);
  const passed = `every location /socket.io passes Upgrade, Connection, Host and X-Frappe-Site-Name to port ${expected}`;
  if (!bench.nginx) {
    return {
      name: 'nginx',
      passed,
      skipped: 'no config/nginx.conf (a development bench: `bench start` needs no nginx)',
      findings: [],
    };
  }
  const source =
    bench.siteConfig.socketio_port === undefined
      ? "Herald's default: socketio_port is not set"
      : `socketio_port in ${SITE_CONFIG}`;
  return {
    name: 'nginx',
    passed,
    findings: checkNginx(bench.nginx.text, { port: expected, portSource: source }),
  };
}

/** The port a web process is started on: `bench serve --port N`, gunicorn's `-b HOST:N`. */
function webProcessPort(command: string): number | undefined {
  const words = splitWords(command);
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const next = words[i + 1];
    if (word === '--port' && next) return port(next);
    if (word.startsWith('--port=')) return port(word.slice(7));
    if ((word === '-b' || word === '--bind') && next) return port(next.split(':').at(-1));
    if (word.startsWith('--bind=')) return port(word.split(':').at(-1));
  }
  return words.includes('serve') ? 8000 : undefined;
}

function checkWebserverFiles(bench: BenchFiles): BenchCheck {
  const expected = webserverPortOf(bench);
  const findings: Finding[] = [];
  const web = bench.procfile && procfileEntries(bench.procfile.text).find((e) => e.name === 'web');
  const program =
    bench.supervisor &&
    supervisorPrograms(bench.supervisor.text).find((p) => p.name.endsWith('-frappe-web'));
  const started: [string, string, string | undefined][] = [
    ['Procfile', 'its web process', web?.command],
    ['config/supervisor.conf', `its ${program?.name} program`, program?.values.command],
  ];
  for (const [file, what, command] of started) {
    const actual = command === undefined ? undefined : webProcessPort(command);
    if (actual !== undefined && actual !== expected) {
      findings.push({
        file,
        problem: `${file} starts ${what} on port ${actual}, but webserver_port is ${expected}: Herald's backchannel asks a port where no web server answers`,
        fix: `bench set-config -g webserver_port ${actual}, or regenerate ${file} (bench setup ${file === 'Procfile' ? 'procfile' : 'supervisor'})`,
      });
    }
  }
  return {
    name: 'webserver',
    passed: `the web server is started on webserver_port ${expected}`,
    findings,
  };
}

/** Every offline check of a bench, in the order of the chain (settings, Redis, port, nginx, web). */
export function checkBench(bench: BenchFiles, slots: SocketioSlot[]): BenchCheck[] {
  return [
    checkSiteConfig(bench),
    checkRedis(bench, slots),
    checkPort(bench, slots),
    nginxCheck(bench),
    checkWebserverFiles(bench),
  ];
}
