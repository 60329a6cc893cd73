/**
 * The demo's store shared by several processes (the demo under `--workers`): changes made at the
 * same time by two real processes on one folder all land, and each process reads the other's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runNode } from '@herald/testkit';
import { seedSite } from '../src/seed.js';
import { Store } from '../src/store.js';

const WRITER = fileURLToPath(new URL('./fixtures/store-writer.ts', import.meta.url));
const SITE = 'site1.localhost';

test('two processes changing one site at the same time lose no change, and read each other’s', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-demo-store-'));
  const store = new Store(dir, seedSite, [SITE]);
  const start = store.read(SITE)!.counter;
  const other = runNode(WRITER, [dir, '500']);
  const exited = other.exited;
  await other.waitForOutput(/ready/);
  // This process changes the same site meanwhile (both run at once, on two cores).
  for (let i = 0; i < 500; i++) {
    store.transaction(SITE, (data) => {
      data.counter += 1;
    });
  }
  assert.equal(await exited, 0, other.output());
  assert.match(other.output(), /done/);
  assert.equal(store.read(SITE)!.counter, start + 1000, 'every change of both processes landed');
  const fresh = new Store(dir, seedSite, [SITE]);
  assert.equal(fresh.read(SITE)!.counter, start + 1000);
});
