/**
 * What every network step of the doctor is made of: its outcome, the way it fails with a cause
 * and a fix, and a bound on how long it may wait.
 */
import type { StepResult } from '../report.js';
import type { StepContext } from './context.js';

/** A step's own verdict; the runner adds the name and the time it took. */
export type StepOutcome = Omit<StepResult, 'name' | 'ms'>;

/** One link of the chain: its name in the report, and the check that passes or fails it. */
export interface DoctorStep {
  readonly name: string;
  /** The outcome; or a throw: a StepFailure (see fail), or any error, reported by its message. */
  run(context: StepContext): Promise<StepOutcome>;
}

/** A broken link, with what the doctor found, the likely cause and the fix. */
export class StepFailure extends Error {
  constructor(
    readonly detail: string,
    // Not `cause`: Error already has one, with another meaning.
    readonly cause2: string,
    readonly fix: string,
  ) {
    super(detail);
  }
}

/** Ends the step as failed (throws a StepFailure); typed `never` so it fits any expression. */
export const fail = (detail: string, cause: string, fix: string): never => {
  throw new StepFailure(detail, cause, fix);
};

/** The promise, or a rejection naming `what` once `ms` have passed without an answer. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
