/**
 * Work deferred to the end of the current event-loop turn, run by one `setImmediate` per turn in
 * two stages: first what produces output (`emit`: batched sends), then what hands it to the
 * network (`flush`: write coalescing's uncorks), so that output produced at the end of a turn
 * leaves with the rest of that turn's held-back frames, not a turn later. Work deferred while the
 * stages run is run in the same pass. One per server (its layer's).
 */
export type Stage = 'emit' | 'flush';

/** Runs a queue, tasks added meanwhile included; a task that throws does not stop the others. */
function runQueue(queue: Array<() => void>, errors: unknown[]): void {
  for (let i = 0; i < queue.length; i += 1) {
    try {
      queue[i]!();
    } catch (error) {
      errors.push(error);
    }
  }
  queue.length = 0;
}

/** A server's work at the end of each event-loop turn. */
export class TurnEnd {
  readonly #queues: Record<Stage, Array<() => void>> = { emit: [], flush: [] };
  #scheduled = false;

  readonly #end = (): void => {
    this.#scheduled = false;
    const queues = this.#queues;
    const errors: unknown[] = [];
    while (queues.emit.length > 0 || queues.flush.length > 0) {
      runQueue(queues.emit, errors);
      runQueue(queues.flush, errors);
    }
    // A task that threw is a defect: it surfaces as a throwing immediate would, once all ran.
    if (errors.length > 0) throw errors[0];
  };

  /** Runs `task` at the end of this event-loop turn, in the given stage. */
  at(stage: Stage, task: () => void): void {
    this.#queues[stage].push(task);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#end);
    }
  }
}
