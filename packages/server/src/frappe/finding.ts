/** A fault found in a bench's files: where, what breaks, and what to do. */
export interface Finding {
  /** The file, relative to the bench (`config/nginx.conf`). */
  file: string;
  problem: string;
  fix: string;
}
