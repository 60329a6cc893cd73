/**
 * The files of a Frappe bench that decide how its realtime server runs, read as `bench init` and
 * `bench setup ...` lay them out, and written back with a backup kept.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { HeraldError } from '../errors.js';

/** One file of the bench. */
export interface BenchFile {
  /** Relative to the bench, with `/` (`config/supervisor.conf`). */
  rel: string;
  path: string;
  text: string;
}

/** What Herald reads of a bench. */
export interface BenchFiles {
  /** The bench folder, absolute. */
  dir: string;
  /** The bench's name, as bench derives it (the folder's name): `frappe-bench`. */
  name: string;
  procfile: BenchFile | undefined;
  supervisor: BenchFile | undefined;
  /** `config/systemd/<name>-node-socketio.service`, on a bench set up for systemd. */
  systemd: BenchFile | undefined;
  nginx: BenchFile | undefined;
  /** `sites/common_site_config.json`, parsed; empty when it is missing or broken. */
  siteConfig: Record<string, unknown>;
  /** Why `sites/common_site_config.json` could not be used, if it could not. */
  siteConfigError: string | undefined;
  /** The sites: folders of `sites/` with a `site_config.json`. */
  sites: string[];
}

/** Where backups of the files Herald changes are kept, relative to the bench. */
export const BACKUP_DIR = 'config/herald-backup';

function readText(dir: string, rel: string): BenchFile | undefined {
  const path = join(dir, rel);
  if (!existsSync(path) || !statSync(path).isFile()) return undefined;
  return { rel, path, text: readFileSync(path, 'utf8') };
}

/** Reads a bench's files; throws HERALD_BENCH_INVALID when the folder is not a bench. */
export function readBenchFiles(dir: string): BenchFiles {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new HeraldError('HERALD_BENCH_INVALID', `--bench ${dir}: no such folder`);
  }
  const sitesDir = join(abs, 'sites');
  if (!existsSync(sitesDir) || !statSync(sitesDir).isDirectory()) {
    throw new HeraldError(
      'HERALD_BENCH_INVALID',
      `--bench ${dir}: not a Frappe bench (it has no sites/ folder)`,
    );
  }
  const name = basename(abs);
  let systemdRel: string | undefined;
  const systemdDir = join(abs, 'config', 'systemd');
  if (existsSync(systemdDir)) {
    const units = readdirSync(systemdDir).filter((file) => file.endsWith('-node-socketio.service'));
    const unit = units.find((file) => file === `${name}-node-socketio.service`) ?? units[0];
    if (unit) systemdRel = `config/systemd/${unit}`;
  }
  let siteConfig: Record<string, unknown> = {};
  let siteConfigError: string | undefined;
  const common = readText(abs, 'sites/common_site_config.json');
  if (!common) siteConfigError = 'sites/common_site_config.json is missing';
  else {
    try {
      const value: unknown = JSON.parse(common.text);
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new Error('not a JSON object');
      siteConfig = value as Record<string, unknown>;
    } catch (error) {
      siteConfigError = `sites/common_site_config.json is not a JSON object (${(error as Error).message})`;
    }
  }
  const sites = readdirSync(sitesDir)
    .filter((entry) => existsSync(join(sitesDir, entry, 'site_config.json')))
    .sort();
  return {
    dir: abs,
    name,
    procfile: readText(abs, 'Procfile'),
    supervisor: readText(abs, 'config/supervisor.conf'),
    systemd: systemdRel ? readText(abs, systemdRel) : undefined,
    nginx: readText(abs, 'config/nginx.conf'),
    siteConfig,
    siteConfigError,
    sites,
  };
}

/** Where the backup of a bench file is kept. */
export function backupPath(bench: { dir: string }, rel: string): string {
  return join(bench.dir, BACKUP_DIR, rel);
}

/** The backup of a bench file, if there is one. */
export function readBackup(bench: { dir: string }, rel: string): string | undefined {
  const path = backupPath(bench, rel);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Writes a file of the bench, keeping a backup of what it held first. */
export function writeBenchFile(
  bench: { dir: string },
  file: BenchFile,
  text: string,
  keepBackup: boolean,
): void {
  if (keepBackup) {
    const backup = backupPath(bench, file.rel);
    mkdirSync(dirname(backup), { recursive: true });
    writeFileSync(backup, file.text);
  }
  replaceFile(file.path, text);
}

/** Puts a backup back over its file and removes the backup (and the backup folder once empty). */
export function restoreBackup(bench: { dir: string }, rel: string): void {
  const backup = backupPath(bench, rel);
  replaceFile(join(bench.dir, rel), readFileSync(backup, 'utf8'));
  rmSync(backup);
  const root = join(bench.dir, BACKUP_DIR);
  for (let folder = dirname(backup); !relative(root, folder).startsWith('..'); ) {
    if (readdirSync(folder).length) break;
    rmSync(folder, { recursive: true });
    if (folder === root) break;
    folder = dirname(folder);
  }
}

/** The backups kept, relative to the bench (`Procfile`, `config/supervisor.conf`). */
export function listBackups(bench: { dir: string }): string[] {
  const root = join(bench.dir, BACKUP_DIR);
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true }) as string[])
    .filter((entry) => statSync(join(root, entry)).isFile())
    .map((entry) => entry.split('\\').join('/'))
    .sort();
}

/** Writes in place, so the file keeps its owner, mode and the symlinks pointing at it. */
function replaceFile(path: string, text: string): void {
  writeFileSync(path, text);
}
