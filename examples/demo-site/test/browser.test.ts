import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Config, configSchema, type Herald, silentLogger, startHerald } from '@herald/server';
import { waitFor } from '@herald/testkit';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
// @ts-expect-error: a plain ESM build script without types
import { buildBundle } from '../../../packages/client/scripts/build-bundle.mjs';

const SHOTS = fileURLToPath(new URL('../test-output/', import.meta.url));
const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';

describe('the demo site in a real browser', () => {
  let herald: Herald;
  let config: Config;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await buildBundle(); // the pages load the <script> build
    config = configSchema.parse({
      port: 0,
      host: '127.0.0.1',
      demo: true,
      demoData: mkdtempSync(join(tmpdir(), 'herald-demo-')),
    });
    herald = await startHerald(config, { logger: silentLogger() });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await herald?.close();
  });

  const origin = (site = 'site1.localhost') => `http://${site}:${herald.port}`;
  /** A user in a browser of their own, logged in through the login page, on the ToDo list. */
  async function userPage(
    user: string,
    site = 'site1.localhost',
    landing = '/app/todo',
  ): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error(`[${user}] page error: ${error.message}`));
    await page.goto(`${origin(site)}/login`);
    await page.click(`button[data-user="${user}"]`);
    await page.waitForURL(/\/(app\/todo|me)$/);
    if (!page.url().endsWith(landing)) await page.goto(`${origin(site)}${landing}`);
    await connected(page);
    return page;
  }
  const connected = (page: Page) =>
    page.waitForSelector('#connection[data-state="connected"]', { timeout: 15_000 });
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  test("bob sees alice's new ToDo appear in his list without reloading", async () => {
    const alice = await userPage('alice@example.com');
    const bob = await userPage('bob@example.com');
    await bob.waitForSelector('tr[data-name="TD-0001"]');
    await alice.fill('#new input[name=description]', 'Prepare the quarterly numbers');
    await alice.selectOption('#new select[name=allocatedTo]', 'bob@example.com');
    await alice.click('#new button[type=submit]');
    const row = await bob.waitForSelector('tr:has-text("Prepare the quarterly numbers")', {
      timeout: 10_000,
    });
    assert.ok(row);
    await shot(bob, 'list-live-update');
    await alice.context().close();
    await bob.context().close();
  });

  test('the list refetches at most once a second, whatever the list_update rate', async () => {
    const bob = await userPage('bob@example.com');
    const refreshes = async () =>
      Number(((await bob.textContent('#refreshes')) ?? '0').split(' ')[0]);
    await bob.waitForSelector('tr[data-name="TD-0001"]');
    const before = await refreshes();
    const started = Date.now();
    for (let i = 0; i < 40; i += 1) {
      await herald.publish({
        event: 'list_update',
        message: { doctype: 'ToDo', name: `TD-X${i}` },
        room: 'doctype:ToDo',
        namespace: 'site1.localhost',
      });
    }
    await bob.waitForFunction(
      (count) => Number(document.querySelector('#refreshes')?.textContent?.split(' ')[0]) > count,
      before,
      { timeout: 10_000 },
    );
    // 40 events in well under a second: at most one refetch per started second, plus the trailing one.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const seconds = (Date.now() - started) / 1000;
    const done = (await refreshes()) - before;
    assert.ok(
      done >= 1 && done <= Math.ceil(seconds) + 1,
      `${done} refetches for 40 list_update events in ${seconds.toFixed(1)} s`,
    );
    await bob.context().close();
  });

  test('alice edits the ToDo bob has open: his form changes; each sees the other; alice leaves', async () => {
    const alice = await userPage('alice@example.com');
    const bob = await userPage('bob@example.com');
    await bob.goto(`${origin()}/app/todo/TD-0001`);
    await connected(bob);
    await alice.goto(`${origin()}/app/todo/TD-0001`);
    await connected(alice);
    await bob.waitForSelector('#viewers:has-text("alice is viewing")', { timeout: 10_000 });
    await alice.waitForSelector('#viewers:has-text("bob is viewing")', { timeout: 10_000 });

    await alice.fill('#doc textarea[name=description]', 'Edited by alice, live');
    await alice.click('#doc button[type=submit]');
    await bob.waitForFunction(
      () =>
        (document.querySelector('#doc textarea') as HTMLTextAreaElement).value ===
        'Edited by alice, live',
      undefined,
      { timeout: 10_000 },
    );

    // A comment by alice appears on bob's form.
    await alice.fill('#comment input[name=content]', 'Looks good to me');
    await alice.click('#comment button[type=submit]');
    const comment = await bob.waitForSelector('.comment:has-text("Looks good to me")', {
      timeout: 10_000,
    });
    // Drawn from the Comment doc of the docinfo_update: the author by full name.
    assert.match((await comment.$eval('.meta', (el) => el.textContent)) ?? '', /^Alice · /);

    // The screenshot of the README: two viewers and a progress bar.
    await bob.evaluate(() => fetch('/api/method/demo.start_import', { method: 'POST' }));
    await bob.waitForFunction(
      () => Number(document.querySelector('#progress')?.getAttribute('data-percent')) >= 30,
      undefined,
      { timeout: 15_000 },
    );
    await shot(bob, 'form-viewers-progress');

    await alice.goto(`${origin()}/app/todo`);
    await bob.waitForFunction(
      () => document.querySelector('#viewers')?.textContent === '',
      undefined,
      { timeout: 10_000 },
    );
    await shot(bob, 'form-alone');
    await alice.context().close();
    await bob.context().close();
  });

  test('the import job: the progress bar reaches 100% for the user who started it, and only for that user', async () => {
    const admin = await userPage('Administrator');
    const alice = await userPage('alice@example.com');
    await admin.click('#import');
    await admin.waitForSelector('#progress[data-percent="100"]', { timeout: 20_000 });
    await shot(admin, 'import-done');
    assert.equal(
      await alice.isVisible('#progress'),
      false,
      "another user's page shows no progress",
    );
    await admin.context().close();
    await alice.context().close();
  });

  test('a msgprint toast appears', async () => {
    const alice = await userPage('alice@example.com');
    await alice.click('#msgprint');
    await alice.waitForSelector('.toast:has-text("Hello from the server!")', { timeout: 10_000 });
    await shot(alice, 'msgprint-toast');
    await alice.context().close();
  });

  test('carol (Website User) gets no desk-only event; a site2 user gets nothing of site1', async () => {
    const carol = await userPage('carol@example.com', 'site1.localhost', '/me');
    const dave = await userPage('dave@example.com', 'site2.localhost', '/me');
    const alice = await userPage('alice@example.com');
    // Desk events of site1: a new ToDo (list_update), and messages to every desk user.
    await alice.fill('#new input[name=description]', 'Desk only');
    await alice.click('#new button[type=submit]');
    await alice.waitForSelector('tr:has-text("Desk only")');
    await herald.publish({
      event: 'desk_notice',
      message: 'for System Users',
      room: 'all',
      namespace: 'site1.localhost',
    });
    // What each may see, published after: once it arrived, the earlier events would have too.
    await herald.publish({
      event: 'site_notice',
      message: 'site1 portal',
      room: 'website',
      namespace: 'site1.localhost',
    });
    await herald.publish({
      event: 'site_notice',
      message: 'site2 portal',
      room: 'website',
      namespace: 'site2.localhost',
    });
    await carol.waitForSelector('[data-event="site_notice"]:has-text("site1 portal")', {
      timeout: 10_000,
    });
    await dave.waitForSelector('[data-event="site_notice"]:has-text("site2 portal")', {
      timeout: 10_000,
    });
    const events = (page: Page) =>
      page.$$eval('#events li', (items) => items.map((li) => li.textContent ?? ''));
    const carolEvents = await events(carol);
    const daveEvents = await events(dave);
    assert.ok(
      !carolEvents.some((e) => /list_update|desk_notice|doc_update/.test(e)),
      carolEvents.join('\n'),
    );
    assert.ok(
      !daveEvents.some((e) => /site1|list_update|desk_notice/.test(e)),
      daveEvents.join('\n'),
    );
    await shot(carol, 'website-user');
    for (const page of [carol, dave, alice]) await page.context().close();
  });

  test('Herald restarts while pages are open: reconnecting, then connected, and updates flow again', async () => {
    const alice = await userPage('alice@example.com');
    const bob = await userPage('bob@example.com');
    const port = herald.port!;
    await herald.close();
    await bob.waitForSelector('#connection[data-state="reconnecting"]', { timeout: 10_000 });
    await shot(bob, 'reconnecting');
    herald = await startHerald({ ...config, port }, { logger: silentLogger() });
    await connected(bob);
    await connected(alice);
    await alice.fill('#new input[name=description]', 'After the restart');
    await alice.selectOption('#new select[name=allocatedTo]', 'bob@example.com');
    await alice.click('#new button[type=submit]');
    await bob.waitForSelector('tr:has-text("After the restart")', { timeout: 15_000 });
    await waitFor(
      async () => (await bob.getAttribute('#connection', 'data-state')) === 'connected',
      { what: 'still connected' },
    );
    await alice.context().close();
    await bob.context().close();
  });
});
