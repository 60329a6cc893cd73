import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
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

/**
 * A comment on a ToDo, kept as Frappe's Comment document (`comment.as_dict()`): the standard
 * fields, then the Comment doctype's own. It goes out as it is, in `docinfo_update` and in the
 * answers, so the desk's form can show it.
 */
export interface Comment {
  doctype: 'Comment';
  name: string;
  owner: string;
  creation: string;
  modified: string;
  modified_by: string;
  docstatus: 0;
  idx: 0;
  comment_type: 'Comment';
  comment_email: string;
  subject: null;
  /** The author's full name. */
  comment_by: string;
  published: 0;
  seen: 0;
  reference_doctype: 'ToDo';
  reference_name: string;
  /** The owner of the ToDo. */
  reference_owner: string;
  content: string;
  ip_address: null;
}

/** A comment as demo data written before comments were Frappe's documents. */
interface LegacyComment {
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

/** How long a change waits for another process's lock on a site's file before it takes it. */
const STALE_LOCK_MS = 5000;

/** Sleeps the thread (a change waiting for another process's lock: a demo, never hot). */
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * The demo's storage: a JSON file per site, written atomically (temp file, then rename), so the
 * data survives a restart. Changes are made inside `transaction`, which writes once at the end and
 * leaves the file untouched when the change throws. Several processes may share one folder (the
 * demo under `--workers`): a change holds the site's lock (a directory, made atomically) and starts
 * from the file as it is, and a read takes the file again when another process has written it.
 */
export class Store {
  readonly #dir: string;
  readonly #sites = new Map<string, SiteData>();
  /** The file's modification time and size when this process last read or wrote it, by site. */
  readonly #seen = new Map<string, string>();

  constructor(dir: string, seed: (site: string) => SiteData, sites: readonly string[]) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true });
    for (const site of sites) {
      const file = this.#file(site);
      this.#sites.set(
        site,
        existsSync(file) ? upgrade(JSON.parse(readFileSync(file, 'utf8')) as SiteData) : seed(site),
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
    if (this.#sites.has(site)) this.#refresh(site);
    return this.#sites.get(site);
  }

  /** Applies a change to a copy of the site's data; keeps it and writes the file only if it returns. */
  transaction<T>(site: string, change: (data: SiteData) => T): T {
    if (!this.#sites.has(site)) throw new Error(`no site ${site}`);
    const unlock = this.#lock(site);
    try {
      this.#refresh(site);
      const draft = structuredClone(this.#sites.get(site)!);
      const result = change(draft);
      this.#sites.set(site, draft);
      this.#write(site);
      return result;
    } finally {
      unlock();
    }
  }

  /** The file's version as this process can tell it apart from another's write. */
  #version(site: string): string | undefined {
    try {
      const stat = statSync(this.#file(site));
      return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
    } catch {
      return undefined;
    }
  }

  /** Takes the file again when another process wrote it since this one last did. */
  #refresh(site: string): void {
    const version = this.#version(site);
    if (version === undefined || version === this.#seen.get(site)) return;
    try {
      this.#sites.set(site, upgrade(JSON.parse(readFileSync(this.#file(site), 'utf8'))));
      this.#seen.set(site, version);
    } catch {
      // Half a write cannot be seen (rename is atomic); an unreadable file keeps what was read.
    }
  }

  /** Holds the site's lock, waiting for another process's (taken over when stale). */
  #lock(site: string): () => void {
    const lock = `${this.#file(site)}.lock`;
    const started = Date.now();
    for (;;) {
      try {
        mkdirSync(lock);
        break;
      } catch {
        let age = 0;
        try {
          age = Date.now() - statSync(lock).mtimeMs;
        } catch {
          continue;
        }
        if (age > STALE_LOCK_MS || Date.now() - started > STALE_LOCK_MS) {
          rmSync(lock, { recursive: true, force: true });
          continue;
        }
        sleep(5);
      }
    }
    return () => {
      try {
        rmdirSync(lock);
      } catch {
        // Taken over as stale meanwhile.
      }
    };
  }

  #file(site: string): string {
    return join(this.#dir, `${site}.json`);
  }

  #write(site: string): void {
    const file = this.#file(site);
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.#sites.get(site), null, 1));
    renameSync(tmp, file);
    const version = this.#version(site);
    if (version !== undefined) this.#seen.set(site, version);
  }
}

/** Demo data of an earlier version, brought to this one (its comments become Comment docs). */
function upgrade(data: SiteData): SiteData {
  const comments = data.comments as (Comment | LegacyComment)[];
  data.comments = comments.map((c) => {
    if (!('todo' in c)) return c;
    const author = data.users.find((u) => u.name === c.owner);
    return commentDoc({
      name: c.name,
      owner: c.owner,
      fullName: author?.fullName ?? c.owner,
      creation: c.creation,
      todo: data.todos.find((t) => t.name === c.todo) ?? { name: c.todo, owner: c.owner },
      content: c.content,
    });
  });
  return data;
}

/** A new Comment document on a ToDo, with every field Frappe's `as_dict()` gives it. */
export function commentDoc(args: {
  name: string;
  owner: string;
  fullName: string;
  creation: string;
  todo: Pick<ToDo, 'name' | 'owner'>;
  content: string;
}): Comment {
  return {
    doctype: 'Comment',
    name: args.name,
    owner: args.owner,
    creation: args.creation,
    modified: args.creation,
    modified_by: args.owner,
    docstatus: 0,
    idx: 0,
    comment_type: 'Comment',
    comment_email: args.owner,
    subject: null,
    comment_by: args.fullName,
    published: 0,
    seen: 0,
    reference_doctype: 'ToDo',
    reference_name: args.todo.name,
    reference_owner: args.todo.owner,
    content: args.content,
    ip_address: null,
  };
}
