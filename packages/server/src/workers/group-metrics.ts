import type { Worker } from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { heraldType, type MetricsJson, type WorkerMessage } from './messages.js';

/** How long the primary waits for each worker's registry; one that is later is left out. */
const WORKER_ANSWER_MS = 3_000;

interface Collection {
  waiting: Set<number>;
  answers: MetricsJson[];
  done: () => void;
}

/**
 * The metrics of the whole process group, in the primary: every ready worker's registry (asked
 * over IPC) and the primary's own, summed by prom-client's AggregatorRegistry (a counter or gauge
 * of several workers is their sum; the process metrics aggregate as prom-client defines).
 */
export class GroupMetrics {
  /** The primary's own metrics. */
  readonly registry = new Registry();
  readonly restarts = new Counter({
    name: 'herald_worker_restarts_total',
    help: 'Worker processes started again after one exited unexpectedly (--workers)',
    registers: [this.registry],
  });
  readonly ready = new Gauge({
    name: 'herald_workers',
    help: 'Worker processes taking new connections (--workers; not those starting or stopping)',
    registers: [this.registry],
  });
  readonly #collections = new Map<number, Collection>();
  #next = 0;

  /** `workers`: the workers to ask (the ready ones, and those stopping, whose sockets still count). */
  constructor(readonly workers: () => Worker[]) {}

  /** The group's metrics in the Prometheus text format. */
  async text(): Promise<string> {
    const id = this.#next++;
    const workers = this.workers().filter((worker) => worker.isConnected());
    const answers: MetricsJson[] = [];
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => collection.done(), WORKER_ANSWER_MS);
      const collection: Collection = {
        waiting: new Set(workers.map((worker) => worker.id)),
        answers,
        done: () => {
          clearTimeout(timer);
          this.#collections.delete(id);
          resolve();
        },
      };
      this.#collections.set(id, collection);
      if (workers.length === 0) collection.done();
      for (const worker of workers) {
        worker.send({ type: 'herald:metrics', id }, undefined, (error) => {
          if (error) this.#answered(id, worker.id);
        });
      }
    });
    answers.push(await this.registry.getMetricsAsJSON());
    return AggregatorRegistry.aggregate(answers).metrics();
  }

  /** Takes a worker's answer to `herald:metrics` (other messages are ignored). */
  onMessage(worker: Worker, message: unknown): void {
    if (heraldType(message) !== 'herald:metrics-answer') return;
    const answer = message as Extract<WorkerMessage, { type: 'herald:metrics-answer' }>;
    if (answer.metrics) this.#collections.get(answer.id)?.answers.push(answer.metrics);
    this.#answered(answer.id, worker.id);
  }

  /** A worker that exited answers nothing: no collection waits for it. */
  forget(worker: Worker): void {
    for (const id of [...this.#collections.keys()]) this.#answered(id, worker.id);
  }

  #answered(id: number, workerId: number): void {
    const collection = this.#collections.get(id);
    if (!collection) return;
    collection.waiting.delete(workerId);
    if (collection.waiting.size === 0) collection.done();
  }
}
