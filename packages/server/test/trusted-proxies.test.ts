import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrustedProxies } from '../src/auth/trusted-proxies.js';

test('trusted proxies: subnets of both families, IPv4-mapped peers, and the same answers past the remembered addresses', () => {
  const proxies = new TrustedProxies(['10.1.0.0/16', '::1/128']);
  const cases: [string | undefined, boolean][] = [
    ['10.1.2.3', true],
    ['::ffff:10.1.2.3', true],
    ['10.2.0.1', false],
    ['::1', true],
    ['::2', false],
    ['', false],
    [undefined, false],
  ];
  for (const [address, trusted] of cases) assert.equal(proxies.contains(address), trusted, address);
  // Asked again (answered from memory), and again after 3,000 other peers made it forget.
  for (const [address, trusted] of cases) assert.equal(proxies.contains(address), trusted, address);
  for (let i = 0; i < 3000; i += 1) {
    const address = `10.${i % 2 === 0 ? 1 : 3}.${(i >> 8) & 255}.${i & 255}`;
    assert.equal(proxies.contains(address), i % 2 === 0, address);
  }
  for (const [address, trusted] of cases) assert.equal(proxies.contains(address), trusted, address);
});
