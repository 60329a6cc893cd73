import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A demo user. */
export interface User {
  name: string;
  fullName: string;
  password: string;
  userType: 'System User' | 'Website User';
  apiKey?: string;
  apiSecret?: string;
}

/** A ToDo document, as Frappe's ToDo doctype has it (the fields the demo uses). */
export interface ToDo {
  name: string;
  description: string;
  status: 'Open' | 'Closed';
  owner: string;
  allocatedTo: string | null;
  modified: string;
}

/** A comment on a ToDo. */
export interface Comment {
  name: string;
  todo: string;
  owner: string;
  content: string;
  creation: string;
}

/** One site's data. */
export interface SiteData {
  users: User[];
  sessions: Record<string, string>;
  todos: ToDo[];
  comments: Comment[];
  counter: number;
}

/**
 * The demo's storage: a JSON file per site, written atomically (temp file, then rename), so the
 * data survives a restart. Changes are made inside `transaction`, which writes once at the end and
 * leaves the file untouched when the change throws.
 */
export class Store {
  readonly #dir: string;
  readonly #sites = new Map<string, SiteData>();

  constructor(dir: string, seed: (site: string) => SiteData, sites: readonly string[]) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true });
    for (const site of sites) {
      const file = this.#file(site);
      this.#sites.set(
        site,
        existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SiteData) : seed(site),
      );
      if (!existsSync(file)) this.#write(site);
    }
  }

  /** The sites this store knows. */
  sites(): string[] {
    return [...this.#sites.keys()];
  }

  /** Read access to a site's data (undefined for an unknown site). */
  read(site: string): Readonly<SiteData> | undefined {
    return this.#sites.get(site);
  }

  /** Applies a change to a copy of the site's data; keeps it and writes the file only if it returns. */
  transaction<T>(site: string, change: (data: SiteData) => T): T {
    const current = this.#sites.get(site);
    if (!current) throw new Error(`no site ${site}`);
    const draft = structuredClone(current);
    const result = change(draft);
    this.#sites.set(site, draft);
    this.#write(site);
    return result;
  }

  #file(site: string): string {
    return join(this.#dir, `${site}.json`);
  }

  #write(site: string): void {
    const file = this.#file(site);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(this.#sites.get(site), null, 1));
    renameSync(`${file}.tmp`, file);
  }
}
