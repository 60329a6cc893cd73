/**
 * `herald frappe setup` and `restore` as plans: which files change and how (a diff), computed
 * from the bench's files without touching them, then applied with backups kept.
 */

import { type BenchCheck, checkBench } from './bench-checks.js';
import {
  type BenchFiles,
  listBackups,
  readBackup,
  restoreBackup,
  writeBenchFile,
} from './bench-files.js';
import { type HeraldProgram, heraldServeCommand } from './command-line.js';
import { unifiedDiff } from './diff.js';
import { type SocketioSlot, socketioSlots } from './socketio-slots.js';

/** A file the setup rewrites. */
export interface FileChange {
  rel: string;
  /** What runs there now, in words. */
  was: string;
  after: string;
  diff: string;
  /** Whether the file's current text is kept as its backup (not when it already ran Herald). */
  keepBackup: boolean;
}

/** What `herald frappe setup` would do to a bench. */
export interface SetupPlan {
  bench: BenchFiles;
  /** The command every socketio process gets. */
  command: string;
  changes: FileChange[];
  /** The places left as they are, and why. */
  unchanged: { rel: string; why: string }[];
  /** The checks of the bench as it will be once the changes are made. */
  checks: BenchCheck[];
}

/** The command line of Herald for this bench. */
export function heraldCommandFor(bench: BenchFiles, program: HeraldProgram): string {
  // The backchannel goes straight to the web server: deriving it from the browser's Origin
  // sends it through nginx (hairpin NAT, TLS, HTTP-to-HTTPS redirects) and fails most often.
  const extra =
    bench.siteConfig.webserver_host === undefined ? ['--webserver-host', '127.0.0.1'] : [];
  return heraldServeCommand(program, bench.dir, extra);
}

function describe(slot: SocketioSlot): string {
  if (slot.runner.kind === 'upstream') return "upstream's socketio.js";
  if (slot.runner.kind === 'herald') return 'Herald';
  return `\`${slot.runner.command}\``;
}

/** Plans the swap: every socketio process that does not run Herald gets Herald's command. */
export function planSetup(bench: BenchFiles, program: HeraldProgram): SetupPlan {
  const command = heraldCommandFor(bench, program);
  const changes: FileChange[] = [];
  const unchanged: SetupPlan['unchanged'] = [];
  const after: BenchFiles = { ...bench };
  for (const slot of socketioSlots(bench)) {
    if (slot.runner.kind === 'herald') {
      unchanged.push({ rel: slot.file.rel, why: `${slot.label} already runs Herald` });
      continue;
    }
    const text = slot.withCommand(command);
    changes.push({
      rel: slot.file.rel,
      was: `${slot.label} runs ${describe(slot)}`,
      after: text,
      diff: unifiedDiff(slot.file.text, text, {
        before: slot.file.rel,
        after: `${slot.file.rel} (with Herald)`,
      }),
      keepBackup: true,
    });
    const changed = { ...slot.file, text };
    if (slot.file === bench.procfile) after.procfile = changed;
    if (slot.file === bench.supervisor) after.supervisor = changed;
    if (slot.file === bench.systemd) after.systemd = changed;
  }
  return { bench, command, changes, unchanged, checks: checkBench(after, socketioSlots(after)) };
}

/** Makes the planned changes; returns the files written. */
export function applySetup(plan: SetupPlan): string[] {
  const files = [plan.bench.procfile, plan.bench.supervisor, plan.bench.systemd];
  for (const change of plan.changes) {
    const file = files.find((candidate) => candidate?.rel === change.rel)!;
    writeBenchFile(plan.bench, file, change.after, change.keepBackup);
  }
  return plan.changes.map((change) => change.rel);
}

/** A backup `herald frappe restore` puts back. */
export interface RestoreItem {
  rel: string;
  /** From the file as it is to its backup; empty when they are the same. */
  diff: string;
}

/** What `herald frappe restore` would put back. */
export function planRestore(bench: BenchFiles): RestoreItem[] {
  const current = new Map(
    [bench.procfile, bench.supervisor, bench.systemd].flatMap((file) =>
      file ? [[file.rel, file.text] as const] : [],
    ),
  );
  return listBackups(bench).map((rel) => ({
    rel,
    diff: unifiedDiff(current.get(rel) ?? '', readBackup(bench, rel) ?? '', {
      before: rel,
      after: `${rel} (the backup)`,
    }),
  }));
}

/** Puts every backup back; returns the files restored. */
export function applyRestore(bench: BenchFiles, items: RestoreItem[]): string[] {
  for (const item of items) restoreBackup(bench, item.rel);
  return items.map((item) => item.rel);
}
