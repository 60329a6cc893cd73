// Preloaded into the servers under test (`--import`): on an IPC message "heap", runs a full
// garbage collection (the process runs with --expose-gc) and answers the heap in use, so idle
// memory compares live objects, not garbage a collection has not reached yet. On "cpu", answers
// the CPU it used so far in µs (the cluster scenarios).
if (process.send) {
  process.on('message', (message) => {
    if (message === 'snapshot') {
      void import('node:v8').then((v8) => process.send?.({ file: v8.writeHeapSnapshot() }));
      return;
    }
    if (message === 'cpu') {
      // The process's own CPU counter (µs): finer than /proc's 10 ms ticks, for short bursts.
      const { user, system } = process.cpuUsage();
      process.send?.({ cpuMicros: user + system });
      return;
    }
    if (message !== 'heap') return;
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ heapUsed: process.memoryUsage().heapUsed });
  });
  // Under --cpu-prof (BENCH_CPU_PROF), the bench stops a server with SIGUSR2: a normal exit writes
  // the profile.
  process.on('SIGUSR2', () => process.exit(0));
  // The channel must not keep a server alive that would otherwise exit.
  process.channel?.unref();
}
