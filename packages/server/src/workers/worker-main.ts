// The program of a worker process of `herald serve --workers` (workers/primary.ts forks it).
import { runWorker } from './worker.js';

await runWorker();
