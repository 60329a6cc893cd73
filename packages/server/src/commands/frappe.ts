import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { HeraldError } from '../errors.js';
import type { BenchCheck } from '../frappe/bench-checks.js';
import { BACKUP_DIR, type BenchFiles, readBenchFiles } from '../frappe/bench-files.js';
import { applyRestore, applySetup, planRestore, planSetup } from '../frappe/setup.js';

/** This Herald's launcher, the program a bench's socketio process gets. */
const LAUNCHER = fileURLToPath(new URL('../../bin/herald.js', import.meta.url));

function openBench(dir: string): BenchFiles {
  try {
    return readBenchFiles(dir);
  } catch (error) {
    if (error instanceof HeraldError) {
      process.stderr.write(`herald frappe: ${error.message}\n  ${error.hint}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** The checks as the doctor prints its steps: a mark, the check, what was found, the fix. */
function formatChecks(checks: BenchCheck[]): string {
  const line = (mark: string, name: string, detail: string) =>
    `  ${mark} ${name.padEnd(10)} ${detail}`;
  return checks
    .flatMap((check) => {
      if (check.skipped) return [line('-', check.name, check.skipped)];
      if (!check.findings.length) return [line('✔', check.name, check.passed)];
      return check.findings.map(
        (finding) =>
          `${line('✖', check.name, `${finding.file}: ${finding.problem}`)}\n      fix:   ${finding.fix}`,
      );
    })
    .join('\n');
}

/** Adds `herald frappe setup` and `herald frappe restore`: swap Herald in for a bench's socketio.js. */
export function registerFrappeCommand(program: Command): void {
  const frappe = program
    .command('frappe')
    .description(
      "swap Herald in for a Frappe bench's realtime server (node apps/frappe/socketio.js)",
    );

  frappe
    .command('setup')
    .description(
      "show what would change for the bench's socketio process to run Herald (Procfile, supervisor, systemd) and check its files; change them with --apply",
    )
    .requiredOption('--bench <dir>', 'the bench folder (the one bench init made)')
    .option('--apply', 'write the changes (a backup of each file is kept)')
    .option('--node <path>', 'the Node.js binary the socketio process runs', process.execPath)
    .option(
      '--herald <path>',
      "Herald's launcher (bin/herald.js) the socketio process runs",
      LAUNCHER,
    )
    .addHelpText(
      'after',
      `\nWithout --apply nothing is written. Backups go to <bench>/${BACKUP_DIR}/; herald frappe restore puts them back.\nbench setup procfile / bench setup supervisor rewrite those files from bench's templates and undo the swap: herald doctor --bench DIR tells, and setup --apply swaps again.`,
    )
    .action((opts: { bench: string; apply?: boolean; node: string; herald: string }) => {
      const bench = openBench(opts.bench);
      const plan = planSetup(bench, { node: opts.node, bin: opts.herald });
      const out = (text: string) => process.stdout.write(`${text}\n`);
      out(
        `herald frappe setup --bench ${bench.dir}${opts.apply ? ' --apply' : ' (a dry run: nothing is written without --apply)'}`,
      );
      if (!plan.changes.length && !plan.unchanged.length) {
        out(
          '\nNo socketio process found: neither Procfile nor config/supervisor.conf nor config/systemd starts a realtime server.\nRun bench setup procfile (and bench setup supervisor in production) first.',
        );
        process.exit(1);
      }
      for (const change of plan.changes)
        out(
          `\n${change.was[0]!.toUpperCase()}${change.was.slice(1)}; with Herald:\n${change.diff}`,
        );
      for (const same of plan.unchanged)
        out(`\n${same.why[0]!.toUpperCase()}${same.why.slice(1)}: nothing to change.`);
      out(
        `\nThe bench's files, checked${plan.changes.length && !opts.apply ? ' as they will be' : ''}:\n${formatChecks(plan.checks)}`,
      );
      if (!plan.changes.length) {
        out('\nNothing to change: every socketio process of this bench runs Herald.');
        return;
      }
      if (!opts.apply) {
        out(
          `\nNothing was written. Run again with --apply to make these changes (each file's backup goes to ${BACKUP_DIR}/; herald frappe restore --bench ${bench.dir} puts them back).`,
        );
        return;
      }
      for (const rel of applySetup(plan)) out(`Wrote ${rel} (backup: ${BACKUP_DIR}/${rel})`);
      out(
        [
          '\nRestart the realtime server for it to take effect:',
          '  development: stop bench start and start it again',
          bench.supervisor
            ? '  supervisor:  sudo supervisorctl reread && sudo supervisorctl update'
            : '',
          bench.systemd
            ? `  systemd:     sudo systemctl daemon-reload && sudo systemctl restart ${bench.name}-node-socketio`
            : '',
          `Then check the chain: herald doctor --bench ${bench.dir} (add --url https://<site> for the network steps)`,
        ]
          .filter(Boolean)
          .join('\n'),
      );
    });

  frappe
    .command('restore')
    .description('put back the files herald frappe setup --apply changed, from their backups')
    .requiredOption('--bench <dir>', 'the bench folder')
    .action((opts: { bench: string }) => {
      const bench = openBench(opts.bench);
      const items = planRestore(bench);
      const out = (text: string) => process.stdout.write(`${text}\n`);
      out(`herald frappe restore --bench ${bench.dir}`);
      if (!items.length) {
        out(
          `\nNo backup in ${BACKUP_DIR}/: nothing to restore (bench setup procfile / supervisor also bring back upstream's socketio.js).`,
        );
        return;
      }
      for (const item of items)
        out(item.diff ? `\n${item.diff}` : `\n${item.rel}: already as its backup`);
      for (const rel of applyRestore(bench, items))
        out(`Restored ${rel} from ${BACKUP_DIR}/${rel}`);
      out(
        '\nRestart the realtime server for it to take effect (bench start, supervisorctl update or systemctl restart).',
      );
    });
}
