import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONNECT_ERROR, checkConnect, checkSiteName, siteNameOfAuthority } from '@herald/protocol';

const label63 = 'a'.repeat(63);
const name253 = `${label63}.${label63}.${label63}.${'b'.repeat(61)}`;

describe('the site name rule: names that pass', () => {
  const good = [
    'erp.example.com',
    'site1.local',
    'site1.localhost',
    'localhost',
    'frontend',
    'ERP.Example.COM',
    'my-site.example.com',
    'a',
    '127.0.0.1',
    'xn--bcher-kva.example',
    // Docker/compose service names, and sites made by `bench new-site` with underscores.
    'myproject_frontend_1',
    'site_1.local',
    `${label63}.example.com`,
    name253,
  ];
  for (const name of good) {
    test(name.length > 40 ? `${name.slice(0, 20)}… (${name.length} characters)` : name, () => {
      assert.deepEqual(checkSiteName(name), { ok: true, site: name });
    });
  }
});

describe('the site name rule: names that are refused, with what is wrong', () => {
  const bad: [string, string, RegExp][] = [
    // The six shapes of the hardening issue.
    ['path-like', '../../etc', /contains "\/"/],
    ['a path', 'a/b', /contains "\/"/],
    ['10 KB', 'a'.repeat(10_240), /is 10240 characters long \(at most 253\)/],
    ['a space', 'erp example.com', /contains a space/],
    ['a control character', 'erp\texample.com', /contains the control character U\+0009/],
    ['a NUL', 'erp\u0000.com', /contains the control character U\+0000/],
    ['an empty label', 'a..b', /has an empty label/],
    ['a leading dot', '.example.com', /has an empty label/],
    ['a leading hyphen', '-site.example.com', /starts or ends with a hyphen \("-site"\)/],
    // More of the same kind.
    ['a trailing dot', 'example.com.', /has an empty label/],
    ['a trailing hyphen', 'site-.example.com', /starts or ends with a hyphen/],
    ['empty', '', /is empty/],
    ['254 characters', `${name253}c`, /is 254 characters long/],
    ['a 64-character label', `${'a'.repeat(64)}.com`, /has a label of 64 characters/],
    ['a backslash', 'a\\b', /contains "\\"/],
    ['a colon', 'a:b', /contains ":"/],
    ['an IPv6 literal', '[::1]', /is an IPv6 address/],
    ['non-ASCII', 'bücher.example', /contains "ü"/],
    ['a percent sign', 'a%2fb', /contains "%"/],
  ];
  for (const [what, name, problem] of bad) {
    test(what, () => {
      const check = checkSiteName(name);
      assert.equal(check.ok, false);
      assert.match((check as { problem: string }).problem, problem);
    });
  }
});

describe('a Host or X-Frappe-Site-Name value as a site name', () => {
  test('a port is dropped, as Frappe drops it', () => {
    assert.deepEqual(siteNameOfAuthority('erp.example.com:8000'), {
      ok: true,
      site: 'erp.example.com',
    });
    assert.deepEqual(siteNameOfAuthority('site1.local'), { ok: true, site: 'site1.local' });
  });
  test('a port that is not one is refused', () => {
    for (const value of ['erp.example.com:', 'erp.example.com:http', 'erp.example.com:70000']) {
      const check = siteNameOfAuthority(value);
      assert.equal(check.ok, false, value);
      assert.match((check as { problem: string }).problem, /port that is not a number/);
    }
  });
  test('a scheme or a path is refused, not cut off', () => {
    for (const value of ['a/b', 'https://erp.example.com', 'erp.example.com/app', 'u@erp.com']) {
      assert.equal(siteNameOfAuthority(value).ok, false, value);
    }
  });
});

describe('the connect checks refuse a bad site name with a clear message', () => {
  const connect = (headers: Record<string, string>, namespace: string, trustedProxy = false) =>
    checkConnect({ namespace, headers: { cookie: 'sid=abc', ...headers }, trustedProxy });

  test('from the Host (no Origin), for each of the six shapes', () => {
    for (const host of ['../../etc', 'a/b', 'a'.repeat(10_240), 'a b', 'a..b', '.a', '-a']) {
      const result = connect({ host }, `/${host}`);
      assert.equal(result.ok, false, host);
      if (result.ok) continue;
      assert.equal(result.rule, 'site-name');
      assert.ok(result.error.startsWith(`${CONNECT_ERROR.invalidSiteName}: the Host header is "`));
      assert.match(result.error, /a site name is a host name such as erp\.example\.com$/);
      assert.ok(result.error.length < 300, 'a long name is cut in the message');
      assert.equal(result.site, undefined);
    }
  });

  test('from X-Frappe-Site-Name of a trusted proxy', () => {
    const result = connect(
      { host: '127.0.0.1:9000', 'x-frappe-site-name': '../../etc/passwd' },
      '/../../etc/passwd',
      true,
    );
    assert.equal(result.ok, false);
    assert.match(
      (result as { error: string }).error,
      /^Invalid site name: the X-Frappe-Site-Name header is "\.\.\/\.\.\/etc\/passwd", which contains "\/"/,
    );
  });

  test('from the Origin', () => {
    const result = connect({ host: 'a..b:9000', origin: 'http://a..b:9000' }, '/a..b');
    assert.match(
      (result as { error: string }).error,
      /^Invalid site name: the Origin header is "http:\/\/a\.\.b:9000", which has an empty label/,
    );
  });

  test('from default_site', () => {
    const result = checkConnect({
      namespace: '/dev site',
      headers: { host: 'localhost:9000', cookie: 'sid=abc' },
      trustedProxy: false,
      defaultSite: 'dev site',
    });
    assert.match(
      (result as { error: string }).error,
      /^Invalid site name: default_site is "dev site"/,
    );
  });

  test('a control character is written escaped', () => {
    const result = connect({ host: 'a\u0007b' }, '/a\u0007b');
    assert.ok((result as { error: string }).error.includes('"a\\u0007b"'));
  });

  test('the origin check still comes first, and a good name with a port passes', () => {
    const denied = connect({ host: 'a..b', origin: 'https://evil.com' }, '/a..b');
    assert.equal((denied as { error: string }).error, CONNECT_ERROR.invalidOrigin);
    assert.equal(connect({ host: 'erp.example.com:9000' }, '/erp.example.com').ok, true);
    assert.equal(connect({ host: 'site_1.local:9000' }, '/site_1.local').ok, true);
  });
});
