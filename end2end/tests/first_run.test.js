// A new user's first session, end to end, against the release binary.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { OWNER, PASSWORD, heraldAndBrowser, waitForHydration, withPage } from './harness.js';

const env = heraldAndBrowser();

const SECTIONS = ['Templates', 'Contacts', 'Campaigns', 'Conversations', 'Settings', 'Dashboard'];

test('first run: setup, sign in, every section, live widgets, sign out', async () => {
  await withPage(env.browser, 'first-run', async (page, errors) => {
    // The wasm is embedded, compressed and cached forever.
    const wasm = page.waitForResponse((r) => r.url().endsWith('.wasm'));
    await page.goto(`${env.herald.base}/`);
    assert.match(page.url(), /\/setup$/);
    const wasmResponse = await wasm;
    assert.equal(wasmResponse.status(), 200);
    const headers = await wasmResponse.allHeaders();
    assert.equal(headers['content-encoding'], 'br');
    assert.equal(headers['cache-control'], 'public, max-age=31536000, immutable');
    await waitForHydration(page);

    // Password rules appear while typing, from the same code the server enforces.
    await page.fill('#username', OWNER);
    await page.fill('#password', 'short');
    await page.waitForSelector('[data-rule="password.too_short"]');
    assert.ok(await page.isDisabled('button[type=submit]'));
    await page.fill('#password', PASSWORD);
    await page.fill('#password_confirm', PASSWORD);
    await page.waitForSelector('[data-rule]', { state: 'detached' });
    await page.click('button[type=submit]');
    await page.waitForURL(/\/login\?notice=created$/);

    // Sign in.
    await page.fill('#username', OWNER);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${env.herald.base}/`);
    await waitForHydration(page);
    assert.equal(await page.textContent('[data-testid=account-name]'), OWNER);

    // Client-side navigation through every section, no full reloads.
    await page.evaluate(() => { window.__sameDocument = true; });
    for (const section of SECTIONS) {
      await page.click(`nav >> text=${section}`);
      await page.waitForSelector(`h1:text-is("${section}")`);
      assert.equal(await page.getAttribute(`nav >> text=${section}`, 'aria-current'), 'page');
    }
    assert.equal(await page.evaluate(() => window.__sameDocument), true);

    // The dashboard clock ticks in the browser...
    const clock = page.locator('[data-testid=server-clock]');
    const first = await clock.textContent();
    assert.match(first, /^\d\d:\d\d:\d\d$/);
    await page.waitForFunction(
      (before) => document.querySelector('[data-testid=server-clock]')?.textContent !== before,
      first,
      { timeout: 5_000 },
    );
    // ...and the theme toggle changes the page without reloading it.
    const before = await page.evaluate(() => document.documentElement.dataset.theme ?? '');
    await page.click('[data-testid=theme-toggle]');
    const afterToggle = await page.evaluate(() => document.documentElement.dataset.theme);
    assert.notEqual(afterToggle, before);
    assert.equal(await page.evaluate(() => window.__sameDocument), true);

    // Sign out; protected pages send us back to sign in.
    await page.click('text=Log out');
    await page.waitForURL(/\/login\?notice=signed_out$/);
    await page.goto(`${env.herald.base}/campaigns`);
    assert.match(page.url(), /\/login\?next=%2Fcampaigns$/);
    assert.deepEqual(errors, []);
  });
});

test('signing in works with JavaScript disabled', async () => {
  await withPage(env.browser, 'no-javascript', async (page) => {
    await page.goto(`${env.herald.base}/settings`);
    assert.match(page.url(), /\/login/);
    await page.fill('#username', OWNER);
    await page.fill('#password', 'wrong password entirely');
    await page.click('button[type=submit]');
    assert.equal(await page.textContent('[data-testid=login-error]'), 'Wrong username or password.');
    await page.fill('#username', OWNER);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('h1:text-is("Settings")');
  }, { javaScriptEnabled: false });
});

test('the sandbox connection sends a test message that goes sent → delivered → read', async () => {
  await withPage(env.browser, 'sandbox-send', async (page, errors) => {
    await page.goto(`${env.herald.base}/login`);
    await page.fill('#username', OWNER);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${env.herald.base}/`);
    await page.goto(`${env.herald.base}/settings`);
    await waitForHydration(page);

    // A new Herald comes with a sandbox connection, labelled as simulated.
    const card = page.locator('[data-testid=connection-card][data-kind=sandbox]');
    assert.match(await card.locator('.badge').textContent(), /simulated/i);
    await card.locator('[data-testid=test-connection]').click();
    await card.locator('[data-testid=check-result] [data-ok=true]').waitFor();
    assert.match(await card.locator('[data-testid=check-result]').textContent(), /Quality rating\s*GREEN/);

    // Free text reaches only someone who wrote in the last 24 hours: before they write, Herald
    // refuses it without calling WhatsApp, and says why.
    await card.locator('[data-testid=send-to]').fill('+1 555 010 1234');
    await card.locator('[data-testid=send-text]').fill('Hello from the browser test');
    await card.locator('[data-testid=send-button]').click();
    const refusal = card.locator('[data-testid=send-test-form] [role=alert]');
    await refusal.waitFor();
    assert.match(await refusal.textContent(), /never written to this number/);
    assert.equal(await card.locator('[data-testid=sent-row]').count(), 0, 'nothing that looks sent');

    // The simulated user (the same number) writes; now the text goes out.
    const simulate = card.locator('[data-testid=simulate-form]');
    await simulate.locator('button[type=submit]').click();
    await simulate.locator('.notice').waitFor();
    // Listed once Herald's webhook worker has applied it (and opened the window).
    await card.locator('[data-testid=inbound-list] tbody tr').first().waitFor();

    // Send a text and follow its delivery reports, driven by signed webhooks through the intake.
    await card.locator('[data-testid=send-to]').fill('+1 555 010 1234');
    await card.locator('[data-testid=send-text]').fill('Hello from the browser test');
    await card.locator('[data-testid=send-button]').click();
    const row = card.locator('[data-testid=sent-row]').first();
    await row.waitFor();
    const order = ['sending', 'accepted', 'sent', 'delivered', 'read'];
    const seen = [];
    for (let i = 0; i < 150 && seen.at(-1) !== 'read'; i += 1) {
      const state = await row.getAttribute('data-delivery');
      if (state !== seen.at(-1)) seen.push(state);
      await page.waitForTimeout(100);
    }
    assert.equal(seen.at(-1), 'read', `states seen: ${seen.join(' → ')}`);
    const ranks = seen.map((s) => order.indexOf(s));
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), `never backwards: ${seen.join(' → ')}`);

    // The webhooks that carried those reports are in the log, all applied.
    await page.click('text=Webhook log');
    await page.waitForSelector('[data-testid=webhook-log]');
    const states = await page.$$eval('[data-testid=webhook-row]', (rows) => rows.map((r) => r.dataset.state));
    assert.ok(states.length >= 3, `expected the sent, delivered and read webhooks, saw ${states.length}`);
    assert.ok(states.every((s) => s === 'processed'), states.join(','));
    assert.deepEqual(errors, []);
  });
});

test('a template is linted live, previewed, submitted to the sandbox and approved by webhook', async () => {
  await withPage(env.browser, 'template-editor', async (page, errors) => {
    await page.goto(`${env.herald.base}/login`);
    await page.fill('#username', OWNER);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${env.herald.base}/`);
    await page.goto(`${env.herald.base}/templates/new`);
    await waitForHydration(page);

    await page.fill('[data-testid=template-name]', 'order_update');
    await page.selectOption('[data-testid=template-connection]', { label: 'Sandbox (simulated)' });
    // A gap in the numbering is caught while typing, in the browser.
    await page.fill('[data-testid=template-body]', 'Hello {{1}}, your order {{3}} has *shipped* today.');
    await page.waitForSelector('[data-rule="template.variable.sequence"]');
    assert.ok(await page.isDisabled('[data-testid=submit-template]'));
    await page.fill('[data-testid=template-body]', 'Hello {{1}}, your order {{2}} has *shipped* today.');
    await page.waitForSelector('[data-rule="template.variable.sequence"]', { state: 'detached' });

    // Examples fill the preview, with WhatsApp formatting.
    const examples = page.locator('[data-testid=body-example]');
    await examples.nth(0).fill('Pablo');
    await examples.nth(1).fill('#42');
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=preview-body]')?.textContent.includes('Hello Pablo, your order #42'));
    assert.equal(await page.locator('[data-testid=preview-body] .b').textContent(), 'shipped');
    await page.waitForSelector('[data-rule]', { state: 'detached' });

    await page.click('[data-testid=submit-template]');
    await page.waitForURL(/\/templates\/[0-9a-f-]{36}$/);
    // The sandbox reviews after five seconds and tells Herald by a signed webhook.
    await page.waitForFunction(
      () => document.querySelector('[data-testid=template-status]')?.textContent.startsWith('Active'),
      null,
      { timeout: 20_000 },
    );

    // A template designed to be rejected shows Meta's reason.
    await page.goto(`${env.herald.base}/templates/new`);
    await waitForHydration(page);
    await page.fill('[data-testid=template-name]', 'weekend_sale');
    await page.selectOption('[data-testid=template-connection]', { label: 'Sandbox (simulated)' });
    await page.fill('[data-testid=template-body]', 'Hello {{1}}, our big sale on {{2}} starts this weekend.');
    await page.waitForSelector('[data-rule="template.category_hint"]');
    await examples.nth(0).fill('Ann');
    await examples.nth(1).fill('shoes');
    await page.click('[data-testid=submit-template]');
    await page.waitForURL(/\/templates\/[0-9a-f-]{36}$/);
    await page.waitForSelector('[data-testid=rejection]', { timeout: 20_000 });
    assert.match(await page.textContent('[data-testid=rejection]'), /INCORRECT_CATEGORY/);

    await page.goto(`${env.herald.base}/templates`);
    await waitForHydration(page);
    assert.equal(await page.locator('[data-testid=template-row]').count(), 2);
    assert.deepEqual(errors, []);
  });
});
