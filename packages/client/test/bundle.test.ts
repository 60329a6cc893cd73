import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runInNewContext } from 'node:vm';
// @ts-expect-error: a plain ESM build script without types
import { BUDGET_BYTES, buildBundle } from '../scripts/build-bundle.mjs';

describe('the <script> tag build', () => {
  test('is within budget on top of socket.io-client, and defines HeraldRealtime', async () => {
    const sizes = (await buildBundle({ write: false })) as {
      own: number;
      full: number;
      minified: number;
    };
    assert.ok(
      sizes.own <= BUDGET_BYTES,
      `Herald's own code is ${sizes.own} bytes min+gzip, budget ${BUDGET_BYTES}`,
    );
    assert.ok(sizes.full > sizes.own, 'the full file includes socket.io-client');
  });

  test('installFrappeRealtime sets window.frappe.realtime', async () => {
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [new URL('../src/browser.ts', import.meta.url).pathname],
      bundle: true,
      format: 'iife',
      globalName: 'HeraldRealtime',
      platform: 'browser',
      write: false,
    });
    const window: Record<string, unknown> = {};
    const context = {
      window,
      self: window,
      globalThis: window,
      location: { protocol: 'http:', host: 'localhost', port: '' },
      setTimeout,
      clearTimeout,
    };
    (window as { window: unknown }).window = window;
    runInNewContext(
      `${result.outputFiles[0]!.text}; globalThis.HeraldRealtime = HeraldRealtime;`,
      context,
    );
    const api = window.HeraldRealtime as {
      createRealtime: unknown;
      installFrappeRealtime: unknown;
    };
    assert.equal(typeof api.createRealtime, 'function');
    assert.equal(typeof api.installFrappeRealtime, 'function');
  });
});
