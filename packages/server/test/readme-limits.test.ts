/**
 * The README's configuration table says, for every setting, what value is allowed: the same
 * limits that stop `herald serve` at start (read here from the zod schema itself, so a limit
 * added or changed in config/schema.ts without the README fails this test).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { z } from 'zod';
import { configSchema } from '../src/config/schema.js';
import { SETTING_LIST } from '../src/config/settings.js';
import { runHerald } from './helpers/cli.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

interface Rule {
  type?: string | string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  enum?: string[];
  items?: Rule;
}

/** The "allowed" cell of each setting's row in the configuration table. */
function allowedCells(): Map<string, string> {
  const lines = readme.split('\n');
  const header = lines.findIndex((line) => line.startsWith('| flag | environment |'));
  assert.ok(header !== -1, 'the README has the configuration table');
  const columns = lines[header]!.split('|').map((cell) => cell.trim());
  const at = columns.indexOf('allowed');
  assert.ok(at !== -1, 'the configuration table has an "allowed" column');
  const cells = new Map<string, string>();
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const row = line.split('|').map((cell) => cell.trim());
    cells.set(row[1]!.replaceAll('`', ''), row[at]!);
  }
  return cells;
}

test("every setting's limits are in the README's configuration table", () => {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, Rule>;
  };
  const cells = allowedCells();
  for (const setting of SETTING_LIST) {
    const cell = cells.get(setting.flag);
    assert.ok(cell, `the table has a row for ${setting.flag} with what it allows`);
    const rule = schema.properties[setting.key]!;
    const item = rule.items ?? rule;
    if (item.minimum !== undefined && item.maximum !== undefined) {
      assert.ok(
        cell.includes(`${item.minimum} to ${item.maximum}`),
        `${setting.flag}: "${cell}" says ${item.minimum} to ${item.maximum}`,
      );
    }
    if (item.minLength !== undefined && item.minLength > 1) {
      assert.ok(
        cell.includes(`at least ${item.minLength} characters`),
        `${setting.flag}: "${cell}" says at least ${item.minLength} characters`,
      );
    }
    for (const value of item.enum ?? []) {
      assert.ok(cell.includes(value), `${setting.flag}: "${cell}" lists ${value}`);
    }
  }
});

test('the limits the README states are the ones herald serve enforces', async () => {
  for (const [args, message] of [
    [['--api-key', 'short'], /apiKeys = .*expected at least 16 characters/],
    [
      ['--max-message-bytes', '1023'],
      /maxMessageBytes = "1023" .*expected a whole number from 1024 to 536870912/,
    ],
    [['--admin-ui'], /adminUi needs adminToken/],
  ] as const) {
    const proc = runHerald(['serve', '--port', '0', ...args]);
    assert.equal(await proc.exited, 2, proc.output());
    assert.match(proc.output(), message);
  }
});
