#!/usr/bin/env node
// Builds the <script> tag file (dist/herald-client.min.js, global HeraldRealtime) and reports its
// size: min+gzip with socket.io-client, and without it (what Herald adds). Fails over budget.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** At most this many bytes (min+gzip) on top of socket.io-client. */
export const BUDGET_BYTES = 6 * 1024;

const root = fileURLToPath(new URL('..', import.meta.url));

async function bundle(external) {
  const result = await build({
    entryPoints: [`${root}src/browser.ts`],
    bundle: true,
    minify: true,
    format: 'iife',
    globalName: 'HeraldRealtime',
    platform: 'browser',
    target: ['es2020'],
    external,
    write: false,
    legalComments: 'none',
  });
  return result.outputFiles[0].contents;
}

/** Builds the bundle; returns its sizes in bytes. */
export async function buildBundle({ write = true } = {}) {
  const full = await bundle([]);
  const own = await bundle(['socket.io-client']);
  if (write) {
    mkdirSync(`${root}dist`, { recursive: true });
    // Unchanged, the file is left alone: a server serving it meanwhile never reads half a file.
    const target = `${root}dist/herald-client.min.js`;
    if (!existsSync(target) || !Buffer.from(full).equals(readFileSync(target))) {
      writeFileSync(target, full);
    }
  }
  return { full: gzipSync(full).length, own: gzipSync(own).length, minified: full.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await buildBundle();
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(
    `herald-client.min.js: ${kb(sizes.minified)} minified, ${kb(sizes.full)} min+gzip with socket.io-client`,
  );
  console.log(`Herald's own code: ${kb(sizes.own)} min+gzip (budget ${kb(BUDGET_BYTES)})`);
  if (sizes.own > BUDGET_BYTES) {
    console.error(`over budget by ${sizes.own - BUDGET_BYTES} bytes`);
    process.exit(1);
  }
}
