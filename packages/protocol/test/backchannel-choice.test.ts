import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseBackchannel, isLoopbackHost, normalizeHostName } from '@herald/protocol';

describe('loopback hosts', () => {
  const loopback = [
    'localhost',
    'LOCALHOST',
    'localhost.',
    'site1.localhost',
    '127.0.0.1',
    '127.1.2.3',
    '[::1]',
    '[::ffff:7f00:1]',
  ];
  for (const host of loopback) test(`${host} is loopback`, () => assert.ok(isLoopbackHost(host)));
  const other = [
    '0.0.0.0',
    '10.0.0.5',
    '169.254.169.254',
    '[::]',
    '[fd00::1]',
    'localhost.example.com',
    'notlocalhost',
    '128.0.0.1',
    'erp.example.com',
  ];
  for (const host of other) test(`${host} is not`, () => assert.equal(isLoopbackHost(host), false));
});

describe('hosts the operator lists', () => {
  test('names and addresses in the form of a URL hostname', () => {
    assert.equal(normalizeHostName('ERP.example.com'), 'erp.example.com');
    assert.equal(normalizeHostName('10.0.0.5'), '10.0.0.5');
    assert.equal(normalizeHostName('fd00::1'), '[fd00::1]');
    assert.equal(normalizeHostName('[fd00::1]'), '[fd00::1]');
  });
  test('anything with a port, scheme or path is not a host', () => {
    for (const entry of ['erp.example.com:8000', 'http://erp.example.com', 'a/b', '', 'a b']) {
      assert.equal(normalizeHostName(entry), undefined, entry);
    }
  });
});

describe("Herald's choice of the backchannel", () => {
  test('the URL the operator set is used, whatever the Origin', () => {
    assert.deepEqual(
      chooseBackchannel({ backendUrl: 'http://10.0.0.5:8000/' }, 'http://evil.com'),
      {
        ok: true,
        base: 'http://10.0.0.5:8000',
        derived: false,
      },
    );
    assert.deepEqual(
      chooseBackchannel({ webserverHost: 'frappe-web', webserverPort: 8000 }, 'http://evil.com'),
      { ok: true, base: 'http://frappe-web:8000', derived: false },
    );
  });

  test('a loopback Origin gives the backchannel, as a bench start needs', () => {
    assert.deepEqual(chooseBackchannel({}, 'http://site1.localhost:8000'), {
      ok: true,
      base: 'http://site1.localhost:8000',
      derived: true,
    });
    assert.deepEqual(
      chooseBackchannel({ developerMode: 1, webserverPort: 8000 }, 'http://127.0.0.1:9000'),
      { ok: true, base: 'http://127.0.0.1:8000', derived: true },
    );
    assert.equal(chooseBackchannel({}, undefined, 'localhost:8000').ok, true);
  });

  test('any other Origin or Host is refused, naming what it would have been', () => {
    for (const [origin, host, hostname] of [
      ['https://erp.example.com', undefined, 'erp.example.com'],
      ['http://10.0.0.5:8080', undefined, '10.0.0.5'],
      ['http://169.254.169.254', undefined, '169.254.169.254'],
      ['http://0.0.0.0:6379', undefined, '0.0.0.0'],
      ['http://127.0.0.1.evil.com', undefined, '127.0.0.1.evil.com'],
      ['http://localhost@evil.com', undefined, 'evil.com'],
      [undefined, '10.0.0.5:8000', '10.0.0.5'],
      [undefined, '127.0.0.1@evil.com', 'evil.com'],
    ] as const) {
      const choice = chooseBackchannel({}, origin, host);
      assert.equal(choice.ok, false, `${origin} ${host}`);
      assert.equal((choice as { hostname: string }).hostname, hostname);
    }
  });

  test('developer mode swaps the port, but not the host: still refused', () => {
    const choice = chooseBackchannel({ developerMode: 1, webserverPort: 8000 }, 'http://10.0.0.5');
    assert.deepEqual(choice, {
      ok: false,
      reason: 'not-allowed',
      base: 'http://10.0.0.5:8000',
      hostname: '10.0.0.5',
    });
  });

  test('the hosts the operator lists are allowed, and only those', () => {
    const settings = { originHosts: ['ERP.example.com', 'fd00::1'] };
    assert.equal(chooseBackchannel(settings, 'https://erp.example.com').ok, true);
    assert.equal(chooseBackchannel(settings, 'http://[fd00::1]:8000').ok, true);
    assert.equal(chooseBackchannel(settings, 'https://erp.example.com.evil.com').ok, false);
    assert.equal(chooseBackchannel(settings, 'https://other.example.com').ok, false);
  });

  test('no usable URL at all', () => {
    assert.deepEqual(chooseBackchannel({}, undefined, undefined), { ok: false, reason: 'unknown' });
    assert.deepEqual(chooseBackchannel({}, 'null'), { ok: false, reason: 'unknown' });
    assert.deepEqual(chooseBackchannel({}, 'ftp://127.0.0.1'), { ok: false, reason: 'unknown' });
  });
});
