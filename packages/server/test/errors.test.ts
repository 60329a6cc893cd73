import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { PUBLISH_ERRORS } from '@herald/publisher';
import { ERRORS, type ErrorCode } from '@herald/server';
import { type Stack, startStack } from './helpers/stack.js';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** The rows of the README's error table: code and HTTP status. */
function readmeErrorTable(): Map<string, number> {
  const section = README.split(/^## /m).find((part) => part.startsWith('Errors\n'));
  assert.ok(section, 'the README has a section "## Errors"');
  const rows = new Map<string, number>();
  for (const line of section.split('\n')) {
    const match = /^\| `(HERALD_[A-Z_]+)` \| (\d{3}) \|/.exec(line);
    if (!match) {
      assert.ok(!/^\| `HERALD_/.test(line), `one code per row, with its status: ${line}`);
      continue;
    }
    assert.ok(!rows.has(match[1]!), `${match[1]} is listed once`);
    rows.set(match[1]!, Number(match[2]));
  }
  return rows;
}

describe('the error catalogue', () => {
  test("the README's error table lists every code of ERRORS with its status, and nothing else", () => {
    const table = readmeErrorTable();
    for (const [code, entry] of Object.entries(ERRORS)) {
      assert.ok(table.has(code), `the README lists ${code}`);
      assert.equal(
        table.get(code),
        entry.status,
        `the README gives ${code} status ${entry.status}`,
      );
    }
    for (const code of table.keys())
      assert.ok(code in ERRORS, `${code} of the README is in ERRORS`);
  });

  test("the publisher's own codes are not the server's", () => {
    for (const code of Object.keys(PUBLISH_ERRORS))
      assert.ok(!(code in ERRORS), `${code} is the publisher's only`);
  });
});

describe('HTTP error answers come from the catalogue', () => {
  const API_KEY = 'publish-key-0123456789abcdef';
  const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      config: { apiKeys: [API_KEY], adminToken: ADMIN_TOKEN, maxMessageBytes: 4096 },
    });
  });
  after(() => stack.close());

  async function answer(path: string, init: RequestInit = {}) {
    const response = await fetch(`${stack.herald.url}${path}`, init);
    const body = (await response.json()) as {
      error: { code: ErrorCode; message: string; hint: string };
    };
    return { status: response.status, error: body.error };
  }

  /** The answer has its code's status, the code's hint unless a specific one, and a message. */
  function assertCatalogued(
    got: Awaited<ReturnType<typeof answer>>,
    code: ErrorCode,
    message: RegExp,
    hint: string = ERRORS[code].hint,
  ) {
    assert.equal(got.error.code, code);
    assert.equal(got.status, ERRORS[code].status, `${code} is answered ${ERRORS[code].status}`);
    assert.match(got.error.message, message);
    assert.equal(got.error.hint, hint);
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const post = (body: string, headers: Record<string, string> = bearer(API_KEY)) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

  test('a path Herald does not answer: 404 HERALD_NOT_FOUND with a hint', async () => {
    assertCatalogued(await answer('/nowhere'), 'HERALD_NOT_FOUND', /^no route for GET \/nowhere$/);
  });

  test('the admin API: unauthorized, and an unknown admin path with its own hint', async () => {
    assertCatalogued(
      await answer('/admin/sockets'),
      'HERALD_ADMIN_UNAUTHORIZED',
      /missing or wrong admin token/,
    );
    assertCatalogued(
      await answer('/admin/nothing', { headers: bearer(ADMIN_TOKEN) }),
      'HERALD_NOT_FOUND',
      /^no admin route \/admin\/nothing$/,
      'use /admin/sockets or /admin/rooms',
    );
  });

  test('the publish API: method, key, JSON, fields and size', async () => {
    assertCatalogued(
      await answer('/api/v1/publish', { headers: bearer(API_KEY) }),
      'HERALD_METHOD_NOT_ALLOWED',
      /^use POST, not GET$/,
    );
    assertCatalogued(
      await answer('/api/v1/publish', post('{}', {})),
      'HERALD_PUBLISH_UNAUTHORIZED',
      /^missing API key$/,
    );
    assertCatalogued(
      await answer('/api/v1/publish', post('{"site":')),
      'HERALD_PUBLISH_BAD_JSON',
      /^the body is not JSON: /,
    );
    const invalid = await answer('/api/v1/publish', post('{"site": ""}'));
    assertCatalogued(invalid, 'HERALD_PUBLISH_INVALID', /^invalid message: site: /);
    assert.deepEqual(
      (invalid.error as unknown as { fields: { path: string }[] }).fields.map((f) => f.path),
      ['site'],
    );
    assertCatalogued(
      await answer(
        '/api/v1/publish',
        post(JSON.stringify({ site: 'x', message: 'y'.repeat(5000) })),
      ),
      'HERALD_PUBLISH_TOO_LARGE',
      /^the body is larger than 4096 bytes$/,
    );
  });
});

describe('HTTP error answers of the APIs that are off', () => {
  test('without --api-key and --admin-token: 404 HERALD_PUBLISH_API_OFF and HERALD_ADMIN_OFF', async () => {
    const stack = await startStack();
    try {
      for (const [path, code] of [
        ['/api/v1/publish', 'HERALD_PUBLISH_API_OFF'],
        ['/admin/rooms', 'HERALD_ADMIN_OFF'],
      ] as const) {
        const response = await fetch(`${stack.herald.url}${path}`, { method: 'POST' });
        assert.equal(response.status, ERRORS[code].status);
        assert.deepEqual(await response.json(), {
          error: { code, message: ERRORS[code].message, hint: ERRORS[code].hint },
        });
      }
    } finally {
      await stack.close();
    }
  });
});
