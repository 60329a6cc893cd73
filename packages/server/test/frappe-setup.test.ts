/**
 * `herald frappe setup --bench DIR` swaps Herald in for upstream's `node apps/frappe/socketio.js`
 * in the files bench generates (Procfile, supervisor.conf, the systemd unit): it shows the change
 * as a diff, writes it only with --apply, keeps a backup, and changes nothing the second time.
 * `herald frappe restore` puts the backups back. The benches are laid out as bench makes them.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readBenchFiles } from '../src/frappe/bench-files.js';
import { quoteWord, readSocketioCommand, splitWords } from '../src/frappe/command-line.js';
import { unifiedDiff } from '../src/frappe/diff.js';
import { procfileSocketio, replaceProcfileCommand } from '../src/frappe/procfile.js';
import { applyRestore, applySetup, planRestore, planSetup } from '../src/frappe/setup.js';
import { supervisorEnvironment, supervisorSocketio } from '../src/frappe/supervisor.js';
import { systemdExecStart } from '../src/frappe/systemd.js';
import { makeBench, regenerateSupervisor } from './helpers/bench-fixture.js';
import { runHerald } from './helpers/cli.js';

const PROGRAM = {
  node: '/usr/bin/node',
  bin: '/opt/herald/node_modules/@herald/server/bin/herald.js',
};
const read = (dir: string, rel: string) => readFileSync(join(dir, rel), 'utf8');
const snapshot = (dir: string, rels: string[]) => rels.map((rel) => read(dir, rel));

describe('the pieces', () => {
  test('a unified diff shows the changed line with three lines of context', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\n';
    const after = 'a\nb\nc\nD\ne\nf\ng\n';
    assert.equal(
      unifiedDiff(before, after, { before: 'x', after: 'x (new)' }),
      '--- x\n+++ x (new)\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g',
    );
    assert.equal(unifiedDiff(before, before, { before: 'x', after: 'x' }), '');
  });

  test('command lines split as a shell does, and what they run is told apart', () => {
    assert.deepEqual(splitWords(`node "/a b/herald.js" serve --bench '/x y'`), [
      'node',
      '/a b/herald.js',
      'serve',
      '--bench',
      '/x y',
    ]);
    assert.equal(quoteWord('/x y'), `'/x y'`);
    assert.equal(readSocketioCommand('/usr/bin/node apps/frappe/socketio.js').kind, 'upstream');
    assert.equal(
      readSocketioCommand('/usr/bin/node /home/frappe/frappe-bench/apps/frappe/socketio.js').kind,
      'upstream',
    );
    const herald = readSocketioCommand(
      'HERALD_REDIS=redis://127.0.0.1:6379 /opt/herald/node_modules/.bin/herald serve --bench /b --port=9100 --dev',
    );
    assert.equal(herald.kind, 'herald');
    assert.ok(herald.kind === 'herald');
    assert.deepEqual(herald.flags, { bench: '/b', port: '9100', dev: true });
    assert.deepEqual(herald.env, { HERALD_REDIS: 'redis://127.0.0.1:6379' });
    assert.equal(
      readSocketioCommand('/usr/bin/node /opt/herald/packages/server/dist/cli.js serve --bench .')
        .kind,
      'herald',
    );
    assert.equal(readSocketioCommand('/usr/local/bin/my-realtime').kind, 'other');
  });

  test("the Procfile's socketio process, supervisor's program and systemd's ExecStart are found", () => {
    const dir = makeBench({ production: 'supervisor' });
    const procfile = read(dir, 'Procfile');
    assert.equal(procfileSocketio(procfile)?.command, '/usr/bin/node apps/frappe/socketio.js');
    assert.match(replaceProcfileCommand(procfile, 'socketio', 'x'), /^socketio: x$/m);
    const program = supervisorSocketio(read(dir, 'config/supervisor.conf'), 'frappe-bench');
    assert.equal(program?.name, 'frappe-bench-node-socketio');
    assert.equal(program?.values.command, `/usr/bin/node ${dir}/apps/frappe/socketio.js`);
    assert.deepEqual(supervisorEnvironment('A="1",B=two'), { A: '1', B: 'two' });
    const unitDir = makeBench({ production: 'systemd' });
    const unit = read(unitDir, 'config/systemd/frappe-bench-node-socketio.service');
    assert.equal(
      systemdExecStart(unit)?.command,
      `/usr/bin/node ${unitDir}/apps/frappe/socketio.js`,
    );
  });
});

describe('herald frappe setup, planned and applied', () => {
  test('shows the change as a diff and writes nothing until applied; then keeps backups', () => {
    const dir = makeBench();
    const files = ['Procfile', 'config/supervisor.conf'];
    const before = snapshot(dir, files);
    const plan = planSetup(readBenchFiles(dir), PROGRAM);
    assert.deepEqual(
      plan.changes.map((change) => change.rel),
      files,
    );
    const command = `/usr/bin/node ${PROGRAM.bin} serve --bench ${dir} --webserver-host 127.0.0.1`;
    assert.equal(plan.command, command);
    assert.match(
      plan.changes[0]!.diff,
      /^-socketio: \/usr\/bin\/node apps\/frappe\/socketio\.js$/m,
    );
    assert.match(
      plan.changes[0]!.diff,
      new RegExp(`^\\+socketio: ${command.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'),
    );
    assert.match(
      plan.changes[1]!.diff,
      /^-command=\/usr\/bin\/node .*\/apps\/frappe\/socketio\.js$/m,
    );
    assert.deepEqual(snapshot(dir, files), before, 'a plan writes nothing');

    assert.deepEqual(applySetup(plan), files);
    assert.match(
      read(dir, 'Procfile'),
      new RegExp(`^socketio: .*herald\\.js serve --bench ${dir}`, 'm'),
    );
    assert.match(
      read(dir, 'config/supervisor.conf'),
      /\[program:frappe-bench-node-socketio\]\ncommand=\/usr\/bin\/node \/opt\/herald\/.*herald\.js serve --bench /,
    );
    // Only the socketio line changed; every other line is bench's.
    const other = (text: string) =>
      text.split('\n').filter((line) => !/socketio(\.js|:)|herald/.test(line));
    assert.deepEqual(other(read(dir, 'Procfile')), other(before[0]!));
    assert.deepEqual(
      files.map((rel) => read(dir, `config/herald-backup/${rel}`)),
      before,
      'the backups hold the files as they were',
    );
  });

  test('a second --apply changes nothing, and keeps the first backups', () => {
    const dir = makeBench();
    const original = read(dir, 'Procfile');
    applySetup(planSetup(readBenchFiles(dir), PROGRAM));
    const swapped = snapshot(dir, ['Procfile', 'config/supervisor.conf']);
    const again = planSetup(readBenchFiles(dir), PROGRAM);
    assert.deepEqual(again.changes, []);
    assert.deepEqual(
      again.unchanged.map((same) => same.why),
      [
        'the socketio process of Procfile already runs Herald',
        'the frappe-bench-node-socketio program of config/supervisor.conf already runs Herald',
      ],
    );
    assert.deepEqual(applySetup(again), []);
    assert.deepEqual(snapshot(dir, ['Procfile', 'config/supervisor.conf']), swapped);
    assert.equal(read(dir, 'config/herald-backup/Procfile'), original);
  });

  test('after bench setup supervisor undid the swap, setup swaps that file again and only that one', () => {
    const dir = makeBench();
    applySetup(planSetup(readBenchFiles(dir), PROGRAM));
    regenerateSupervisor(dir);
    const plan = planSetup(readBenchFiles(dir), PROGRAM);
    assert.deepEqual(
      plan.changes.map((change) => change.rel),
      ['config/supervisor.conf'],
    );
    applySetup(plan);
    assert.match(read(dir, 'config/supervisor.conf'), /herald\.js serve --bench/);
  });

  test('a bench on systemd gets its unit swapped', () => {
    const dir = makeBench({ production: 'systemd' });
    const unit = 'config/systemd/frappe-bench-node-socketio.service';
    const plan = planSetup(readBenchFiles(dir), PROGRAM);
    assert.deepEqual(
      plan.changes.map((change) => change.rel),
      ['Procfile', unit],
    );
    applySetup(plan);
    assert.match(
      read(dir, unit),
      new RegExp(`^ExecStart=/usr/bin/node \\S+herald\\.js serve --bench ${dir} `, 'm'),
    );
    assert.match(read(dir, unit), /^WorkingDirectory=/m);
  });

  test('a bench with several sites and a custom socketio port: one Herald serves them all, and the checks pass', () => {
    const dir = makeBench({
      sites: ['site1.local', 'site2.local', 'site3.local'],
      nginx: 'ports',
      socketioPort: 9123,
      webserverPort: 8123,
    });
    const plan = planSetup(readBenchFiles(dir), PROGRAM);
    assert.equal(plan.changes.length, 2);
    // Herald reads socketio_port and webserver_port from the bench: no --port in the command.
    assert.doesNotMatch(plan.command, /--port/);
    assert.deepEqual(
      plan.checks.map((check) => [check.name, check.findings]),
      [
        ['config', []],
        ['redis', []],
        ['port', []],
        ['nginx', []],
        ['webserver', []],
      ],
    );
    assert.match(plan.checks.find((check) => check.name === 'port')!.passed, /socketio_port 9123/);
  });

  test('restore puts the backups back and removes them', () => {
    const dir = makeBench({ production: 'systemd' });
    const files = ['Procfile', 'config/systemd/frappe-bench-node-socketio.service'];
    const before = snapshot(dir, files);
    applySetup(planSetup(readBenchFiles(dir), PROGRAM));
    const items = planRestore(readBenchFiles(dir));
    assert.deepEqual(
      items.map((item) => item.rel),
      files,
    );
    assert.match(items[0]!.diff, /^\+socketio: \/usr\/bin\/node apps\/frappe\/socketio\.js$/m);
    applyRestore(readBenchFiles(dir), items);
    assert.deepEqual(snapshot(dir, files), before);
    assert.equal(existsSync(join(dir, 'config/herald-backup')), false);
    assert.deepEqual(planRestore(readBenchFiles(dir)), []);
  });
});

describe('the herald frappe command', () => {
  test('setup shows the diff and the checks, --apply writes, the second --apply changes nothing, restore undoes', async () => {
    const dir = makeBench({ sites: ['site1.local', 'site2.local'] });
    const original = snapshot(dir, ['Procfile', 'config/supervisor.conf']);

    const dry = runHerald(['frappe', 'setup', '--bench', dir]);
    assert.equal(await dry.exited, 0, dry.output());
    assert.match(dry.output(), /a dry run: nothing is written without --apply/);
    assert.match(dry.output(), /^-socketio: \/usr\/bin\/node apps\/frappe\/socketio\.js$/m);
    assert.match(dry.output(), /^\+socketio: \S+node \S+\/bin\/herald\.js serve --bench /m);
    assert.match(dry.output(), /✔ nginx +every location \/socket\.io passes Upgrade/);
    assert.match(dry.output(), /Run again with --apply/);
    assert.deepEqual(snapshot(dir, ['Procfile', 'config/supervisor.conf']), original);

    const apply = runHerald(['frappe', 'setup', '--bench', dir, '--apply']);
    assert.equal(await apply.exited, 0, apply.output());
    assert.match(apply.output(), /Wrote Procfile \(backup: config\/herald-backup\/Procfile\)/);
    assert.match(apply.output(), /sudo supervisorctl reread && sudo supervisorctl update/);
    const swapped = snapshot(dir, ['Procfile', 'config/supervisor.conf']);
    assert.notDeepEqual(swapped, original);

    const again = runHerald(['frappe', 'setup', '--bench', dir, '--apply']);
    assert.equal(await again.exited, 0, again.output());
    assert.match(
      again.output(),
      /Nothing to change: every socketio process of this bench runs Herald/,
    );
    assert.deepEqual(snapshot(dir, ['Procfile', 'config/supervisor.conf']), swapped);

    const restore = runHerald(['frappe', 'restore', '--bench', dir]);
    assert.equal(await restore.exited, 0, restore.output());
    assert.match(restore.output(), /Restored config\/supervisor\.conf/);
    assert.deepEqual(snapshot(dir, ['Procfile', 'config/supervisor.conf']), original);
  });

  test('the command it writes starts Herald on the bench', async () => {
    const dir = makeBench({ production: false, socketioPort: 0 });
    // socketio_port 0: the test's Herald takes a free port.
    applySetup(planSetup(readBenchFiles(dir), PROGRAM));
    const line = procfileSocketio(read(dir, 'Procfile'))!.command;
    const args = splitWords(line).slice(2); // after node and the launcher
    assert.deepEqual(args.slice(0, 3), ['serve', '--bench', dir]);
    const herald = runHerald(args);
    await herald.waitForOutput(/Herald listening on port \d+/);
    herald.child.kill('SIGTERM');
    assert.equal(await herald.exited, 0);
  });

  test('a folder that is not a bench is refused with exit code 2', async () => {
    const dir = makeBench();
    const missing = runHerald(['frappe', 'setup', '--bench', join(dir, 'nope')]);
    assert.equal(await missing.exited, 2);
    assert.match(missing.output(), /--bench .*nope: no such folder/);
    const notBench = runHerald(['frappe', 'setup', '--bench', join(dir, 'apps')]);
    assert.equal(await notBench.exited, 2);
    assert.match(notBench.output(), /not a Frappe bench \(it has no sites\/ folder\)/);
    writeFileSync(join(dir, 'Procfile'), 'web: bench serve --port 8000\n');
    writeFileSync(join(dir, 'config/supervisor.conf'), '');
    const none = runHerald(['frappe', 'setup', '--bench', dir]);
    assert.equal(await none.exited, 1);
    assert.match(none.output(), /No socketio process found/);
  });
});
