/**
 * `herald doctor --bench DIR` reads a bench's files, offline, and names each fault that breaks
 * the realtime chain with its fix: upstream's socketio.js back after `bench setup supervisor` or
 * `bench setup procfile`, Herald on another Redis than redis_queue, nginx's /socket.io location
 * without its upgrade or site headers or on another port, no web server on webserver_port.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '@herald/testkit';
import type { StepResult } from '../src/doctor/report.js';
import { runDoctor } from '../src/doctor/run.js';
import { readBenchFiles } from '../src/frappe/bench-files.js';
import { applySetup, planSetup } from '../src/frappe/setup.js';
import {
  type BenchFixtureOptions,
  makeBench,
  regenerateProcfile,
  regenerateSupervisor,
} from './helpers/bench-fixture.js';
import { runHerald } from './helpers/cli.js';

const PROGRAM = {
  node: '/usr/bin/node',
  bin: '/opt/herald/node_modules/@herald/server/bin/herald.js',
};

/** A web server answering /api/method/ping as Frappe does. */
let web: Server;
let webPort: number;
before(async () => {
  web = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"message":"pong"}');
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  webPort = (web.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => web.close(() => resolve())));

/** A bench where Herald is swapped in and the web server answers. */
function swappedBench(options: BenchFixtureOptions = {}): string {
  const dir = makeBench({ webserverPort: webPort, ...options });
  applySetup(planSetup(readBenchFiles(dir), PROGRAM));
  return dir;
}

const doctor = (dir: string) => runDoctor({ bench: dir, timeoutMs: 2000 });
const failures = (steps: StepResult[]) => steps.filter((step) => step.status === 'fail');
const edit = (dir: string, rel: string, change: (text: string) => string) =>
  writeFileSync(join(dir, rel), change(readFileSync(join(dir, rel), 'utf8')));

describe('herald doctor --bench', () => {
  test('a bench set up for Herald, with its web server up, is all green', async () => {
    const report = await doctor(swappedBench({ sites: ['site1.local', 'site2.local'] }));
    assert.deepEqual(failures(report.steps), []);
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.steps.map((step) => `${step.name} ${step.status}`),
      ['swap ok', 'swap ok', 'config ok', 'redis ok', 'port ok', 'nginx ok', 'webserver ok'],
    );
    assert.match(
      report.steps.at(-1)!.detail,
      new RegExp(`a web server answers at http://127.0.0.1:${webPort}`),
    );
  });

  test('after bench setup supervisor, it says the bench runs upstream socketio.js again', async () => {
    const dir = swappedBench();
    regenerateSupervisor(dir, 'frappe-bench', webPort);
    const report = await doctor(dir);
    const [fault, ...rest] = failures(report.steps);
    assert.deepEqual(rest, []);
    assert.equal(fault!.name, 'swap');
    assert.match(
      fault!.detail,
      /the frappe-bench-node-socketio program of config\/supervisor\.conf: the bench runs upstream's socketio\.js again \(`bench setup supervisor` rewrote config\/supervisor\.conf/,
    );
    assert.equal(fault!.fix, `run herald frappe setup --bench ${dir} --apply`);
  });

  test('after bench setup procfile, the same for the Procfile', async () => {
    const dir = swappedBench();
    regenerateProcfile(dir, webPort);
    const [fault] = failures((await doctor(dir)).steps);
    assert.match(
      fault!.detail,
      /the socketio process of Procfile: the bench runs upstream's socketio\.js again/,
    );
    assert.equal(fault!.fix, `run herald frappe setup --bench ${dir} --apply`);
  });

  test('a bench that never ran Herald is told to run the setup', async () => {
    const dir = makeBench({ webserverPort: webPort, production: false });
    const [fault] = failures((await doctor(dir)).steps);
    assert.match(
      fault!.detail,
      /the socketio process of Procfile: the bench runs upstream's socketio\.js \(\/usr\/bin\/node apps\/frappe\/socketio\.js\)/,
    );
    assert.equal(fault!.fix, `run herald frappe setup --bench ${dir} --apply`);
  });

  test('Herald started on another Redis than redis_queue', async () => {
    const dir = swappedBench({ production: false });
    edit(dir, 'Procfile', (text) =>
      text.replace(/^(socketio: .*)$/m, '$1 --redis redis://127.0.0.1:6379'),
    );
    const [fault, ...rest] = failures((await doctor(dir)).steps);
    assert.deepEqual(rest, []);
    assert.equal(fault!.name, 'redis');
    assert.match(
      fault!.detail,
      /Procfile: the socketio process of Procfile starts Herald on Redis redis:\/\/127\.0\.0\.1:6379, but the web server publishes to redis_queue redis:\/\/127\.0\.0\.1:11000/,
    );
    assert.match(fault!.fix!, /drop --redis/);
  });

  test('Herald given its Redis through supervisor environment= is read the same way', async () => {
    const dir = swappedBench({ redisQueue: 'redis://localhost:11000' });
    edit(dir, 'config/supervisor.conf', (text) =>
      text.replace(
        /(\[program:frappe-bench-node-socketio\]\ncommand=.*\n)/,
        '$1environment=HERALD_REDIS="redis://127.0.0.1:12000"\n',
      ),
    );
    const [fault] = failures((await doctor(dir)).steps);
    assert.match(
      fault!.detail,
      /config\/supervisor\.conf: .* starts Herald on Redis redis:\/\/127\.0\.0\.1:12000, but the web server publishes to redis_queue redis:\/\/localhost:11000/,
    );
  });

  test('Herald started without --bench or --redis uses its in-memory broker', async () => {
    const dir = swappedBench({ production: false });
    edit(dir, 'Procfile', (text) => text.replace(/ --bench \S+/, ''));
    const faults = failures((await doctor(dir)).steps);
    assert.ok(
      faults.some(
        (f) => f.name === 'redis' && /in-memory broker and never sees the events/.test(f.detail),
      ),
      JSON.stringify(faults),
    );
  });

  for (const [header, line, pattern] of [
    [
      'Upgrade',
      /\t\tproxy_set_header Upgrade \$http_upgrade;\n/,
      /does not set the Upgrade header: the websocket upgrade never reaches/,
    ],
    [
      'Connection',
      /\t\tproxy_set_header Connection "upgrade";\n/,
      /does not set Connection "upgrade"/,
    ],
    [
      'Host',
      /\t\tproxy_set_header Host \$host;\n\n\t\tproxy_pass http:\/\/frappe-bench-socketio/,
      /does not set the Host header/,
    ],
    [
      'X-Frappe-Site-Name',
      /\t\tproxy_set_header X-Frappe-Site-Name \$host;\n\t\tproxy_set_header Origin/,
      /does not set X-Frappe-Site-Name/,
    ],
  ] as const) {
    test(`nginx's /socket.io location without its ${header} header`, async () => {
      const dir = swappedBench();
      edit(dir, 'config/nginx.conf', (text) => {
        assert.match(text, line);
        // Keep what follows the removed header (the proxy_pass, the Origin header).
        return text.replace(line, (found) => found.replace(/^\t\tproxy_set_header [^\n]*\n/, ''));
      });
      const [fault, ...rest] = failures((await doctor(dir)).steps);
      assert.deepEqual(rest, []);
      assert.equal(fault!.name, 'nginx');
      assert.match(
        fault!.detail,
        /^config\/nginx\.conf: the location \/socket\.io of server site1\.local /,
      );
      assert.match(fault!.detail, pattern);
      assert.match(fault!.fix!, /^add `proxy_set_header /);
    });
  }

  test('nginx pointing /socket.io at another port than socketio_port (a bench with a custom port)', async () => {
    const dir = swappedBench({ socketioPort: 9123 });
    edit(dir, 'config/nginx.conf', (text) =>
      text.replace('server 127.0.0.1:9123', 'server 127.0.0.1:9000'),
    );
    const [fault, ...rest] = failures((await doctor(dir)).steps);
    assert.deepEqual(rest, []);
    assert.match(
      fault!.detail,
      /forwards to 127\.0\.0\.1:9000, but Herald listens on 9123 \(socketio_port in sites\/common_site_config\.json\)/,
    );
  });

  test('one fault per server on a bench with several sites on ports', async () => {
    const dir = swappedBench({ sites: ['site1.local', 'site2.local'], nginx: 'ports' });
    edit(dir, 'config/nginx.conf', (text) =>
      text.replaceAll('\t\tproxy_set_header Upgrade $http_upgrade;\n', ''),
    );
    const faults = failures((await doctor(dir)).steps);
    assert.deepEqual(
      faults.map((f) => /server (\S+)/.exec(f.detail)?.[1]),
      ['site1.local', 'site2.local'],
    );
  });

  test('webserver_port where no web server answers', async () => {
    const port = await freePort();
    const dir = swappedBench({ webserverPort: port });
    const [fault, ...rest] = failures((await doctor(dir)).steps);
    assert.deepEqual(rest, []);
    assert.equal(fault!.name, 'webserver');
    assert.match(
      fault!.detail,
      new RegExp(`no web server answers at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`),
    );
    assert.match(fault!.fix!, /start the web server .* bench set-config -g webserver_port PORT/);
  });

  test('webserver_port other than the port bench starts the web server on', async () => {
    const dir = swappedBench();
    edit(dir, 'sites/common_site_config.json', (text) =>
      text.replace(`"webserver_port": ${webPort}`, '"webserver_port": 8001'),
    );
    const faults = failures((await doctor(dir)).steps);
    assert.deepEqual(
      faults.map((f) => f.detail.split(':')[0]),
      ['Procfile', 'config/supervisor.conf'],
    );
    assert.match(
      faults[0]!.detail,
      new RegExp(`starts its web process on port ${webPort}, but webserver_port is 8001`),
    );
  });

  test('several faults are each listed, the network chain not needed', async () => {
    const dir = swappedBench();
    regenerateSupervisor(dir, 'frappe-bench', webPort);
    edit(dir, 'config/nginx.conf', (text) =>
      text.replace('\t\tproxy_set_header Upgrade $http_upgrade;\n', ''),
    );
    edit(dir, 'sites/common_site_config.json', (text) =>
      text.replace(/\n "redis_queue": [^\n]*/, ''),
    );
    const report = await doctor(dir);
    assert.deepEqual(
      failures(report.steps).map((f) => f.name),
      ['swap', 'config', 'nginx'],
    );
    assert.equal(report.brokenAt, 'swap');
  });
});

describe('the doctor command with --bench', () => {
  test('prints each fault with its fix and exits 1; exits 0 once fixed', async () => {
    const dir = swappedBench();
    regenerateSupervisor(dir, 'frappe-bench', webPort);
    const broken = runHerald(['doctor', '--bench', dir]);
    assert.equal(await broken.exited, 1);
    assert.match(
      broken.output(),
      new RegExp(
        `✖ swap +the frappe-bench-node-socketio program of config/supervisor\\.conf: the bench runs upstream's socketio\\.js again .*\\n +fix: +run herald frappe setup --bench ${dir} --apply`,
      ),
    );
    const fix = runHerald(['frappe', 'setup', '--bench', dir, '--apply']);
    assert.equal(await fix.exited, 0, fix.output());
    const healthy = runHerald(['doctor', '--bench', dir]);
    assert.equal(await healthy.exited, 0, healthy.output());
    assert.match(healthy.output(), /All green/);
  });

  test('without --url or --bench it says to give one', async () => {
    const proc = runHerald(['doctor']);
    assert.equal(await proc.exited, 2);
    assert.match(proc.output(), /give --url .*, --bench .* or both/);
  });
});
