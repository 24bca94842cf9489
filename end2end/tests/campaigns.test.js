// Campaigns end to end against the release binary: a list imported, a segment built, a
// marketing template approved by the sandbox; then a campaign created in the wizard, checked,
// launched, followed live to completion, and its report downloaded. A second campaign is
// scheduled two minutes ahead and starts on time.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { OWNER, PASSWORD, heraldAndBrowser, waitForHydration, withPage } from './harness.js';

const env = heraldAndBrowser();

async function signIn(page, firstTime) {
  if (firstTime) {
    await page.goto(`${env.herald.base}/setup`);
    await page.fill('#username', OWNER);
    await page.fill('#password', PASSWORD);
    await page.fill('#password_confirm', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/login/);
  } else {
    await page.goto(`${env.herald.base}/login`);
  }
  await page.fill('#username', OWNER);
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(`${env.herald.base}/`);
}

// Imports `text` as the list `name`, its contacts opted in to marketing.
async function importList(page, name, text) {
  const csv = join(env.herald.dir, name);
  writeFileSync(csv, text);
  await page.goto(`${env.herald.base}/contacts/import`);
  await waitForHydration(page);
  await page.setInputFiles('[data-testid=import-file]', csv);
  await page.click('[data-testid=upload]');
  await page.waitForURL(/\/contacts\/imports\/[0-9a-f-]{36}$/);
  await waitForHydration(page);
  await page.check('[data-testid=consent-marketing]');
  await page.click('[data-testid=start-import]');
  await page.waitForSelector('[data-testid=import-progress][data-state=done]', { timeout: 30_000 });
}

// Five Turkish customers who opted in to marketing, tagged `spring`.
async function importCustomers(page) {
  await importList(page, 'spring.csv', 'phone,first_name,tags\n' + [1, 2, 3, 4, 5]
    .map((i) => `+90532100000${i},Customer${i},spring`).join('\n') + '\n');

  await page.goto(`${env.herald.base}/contacts/segments`);
  await waitForHydration(page);
  await page.click('[data-testid=add-condition]');
  await page.fill('[data-testid=condition-value]', 'spring');
  await page.fill('[data-testid=segment-name]', 'Spring customers');
  await page.waitForFunction(() => document.querySelector('[data-testid=segment-count]')?.textContent === '5');
  await page.click('[data-testid=save-segment]');
  await page.waitForSelector('[data-testid=segment-row]');
}

async function approveTemplate(page) {
  await page.goto(`${env.herald.base}/templates/new`);
  await waitForHydration(page);
  await page.fill('[data-testid=template-name]', 'spring_collection');
  await page.selectOption('[data-testid=template-connection]', { label: 'Sandbox (simulated)' });
  await page.getByLabel('Category').selectOption('MARKETING');
  await page.fill('[data-testid=template-body]', 'Hello {{1}}, our spring collection is in the shop now.');
  await page.locator('[data-testid=body-example]').first().fill('Ayşe');
  await page.click('[data-testid=submit-template]');
  await page.waitForURL(/\/templates\/[0-9a-f-]{36}$/);
  await page.waitForFunction(
    () => document.querySelector('[data-testid=template-status]')?.textContent.startsWith('Active'),
    null, { timeout: 30_000 });
}

async function fillWizard(page, name) {
  await page.goto(`${env.herald.base}/campaigns/new`);
  await waitForHydration(page);
  await page.fill('[data-testid=campaign-name]', name);
  await page.selectOption('[data-testid=campaign-segment]', { label: 'Spring customers' });
  await page.locator('[data-testid=campaign-template]').selectOption({ index: 1 });
  // The only variable is bound to the first name; give it a fallback.
  await page.fill('[data-testid=binding-fallback]', 'friend');
}

test('a segment campaign is checked, launched, followed live to completion and reported', async () => {
  await withPage(env.browser, 'campaign-send', async (page, errors) => {
    await signIn(page, true);
    await importCustomers(page);
    await approveTemplate(page);

    await fillWizard(page, 'Spring launch');
    await page.click('[data-testid=check-campaign]');
    await page.waitForSelector('[data-testid=preflight-recipients]');
    assert.match(await page.textContent('[data-testid=preflight-recipients]'), /^5 recipients/);
    await page.waitForSelector('[data-testid=preview-message]');
    assert.match(await page.locator('[data-testid=preview-message]').first().textContent(),
      /Hello Customer1, our spring collection/);

    // Every launch asks first, in people, money and time; "Not yet" sends nothing.
    await page.click('[data-testid=launch-campaign]');
    const confirmation = page.locator('[data-testid=launch-confirm]');
    await confirmation.waitFor();
    assert.match(await confirmation.textContent(), /^Send to 5 people, about \d+\.\d\d USD, taking under a minute\.$/);
    await page.click('[data-testid=cancel-launch]');
    await confirmation.waitFor({ state: 'detached' });
    assert.match(page.url(), /\/campaigns\/new$/);
    await page.click('[data-testid=launch-campaign]');
    await page.click('[data-testid=confirm-launch]');
    await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
    await waitForHydration(page);
    // Live: the page follows the campaign without a reload until every message is delivered.
    await page.waitForSelector('[data-testid=campaign][data-status=completed]', { timeout: 60_000 });
    await page.waitForFunction(
      () => document.querySelector('[data-testid=count-delivered]')?.textContent === '5', null, { timeout: 30_000 });
    assert.equal(await page.textContent('[data-testid=count-sent]'), '5');
    assert.equal(await page.getAttribute('[data-testid=campaign-bar]', 'value'), '100');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=download-report]'),
    ]);
    const report = readFileSync(await download.path(), 'utf8');
    assert.equal(report.trim().split('\n').length, 6, report);
    assert.ok(report.startsWith('phone,name,country,state'), report);
    assert.ok(report.includes('+905321000001,Customer1,TR,'), report);

    // A recipient answers the campaign (Settings' simulated user): the inbox shows the reply
    // under the campaign message it answers, and the contact's page shows both and the campaign.
    await page.goto(`${env.herald.base}/settings`);
    await waitForHydration(page);
    const simulate = page.locator('[data-testid=connection-card][data-kind=sandbox] [data-testid=simulate-form]');
    await simulate.getByLabel('From').fill('+905321000003');
    await simulate.locator('[data-testid=simulate-what]').fill('Do you have it in blue?');
    await simulate.locator('button[type=submit]').click();
    await simulate.locator('.notice').waitFor();
    await page.goto(`${env.herald.base}/conversations`);
    await waitForHydration(page);
    await page.locator('[data-testid=inbox-row]', { hasText: 'Do you have it in blue?' }).locator('a').click({ timeout: 10_000 });
    await page.waitForURL(/\/conversations\/[0-9a-f-]{36}$/);
    const thread = page.locator('[data-testid=thread]');
    await thread.locator('[data-direction=inbound]', { hasText: 'Do you have it in blue?' }).waitFor();
    assert.match(await thread.locator('[data-testid=message]').first().getAttribute('data-direction'), /outbound/,
      'the campaign message comes first');
    await page.goto(`${env.herald.base}/contacts/905321000003`);
    const history = page.locator('[data-testid=contact-history]');
    await history.locator('[data-testid=history-message][data-direction=inbound]', { hasText: 'Do you have it in blue?' })
      .waitFor({ timeout: 10_000 });
    assert.match(await history.locator('[data-testid=history-campaigns]').textContent(), /Spring launch\s*replied/);
    assert.deepEqual(errors, []);
  });
});

test('a campaign scheduled two minutes ahead starts on time', async () => {
  await withPage(env.browser, 'campaign-schedule', async (page, errors) => {
    await signIn(page, false);
    await fillWizard(page, 'Spring reminder');
    const start = new Date(Date.now() + 2 * 60_000);
    start.setUTCSeconds(0, 0);
    if (start.getTime() < Date.now() + 90_000) start.setUTCMinutes(start.getUTCMinutes() + 1);
    const local = start.toISOString().slice(0, 16);
    await page.check('[data-testid=schedule-at]');
    await page.fill('[data-testid=schedule-zone]', 'UTC');
    // A time that has passed is refused on the field as it is typed, and nothing can be launched.
    const anHourAgo = new Date(Date.now() - 3_600_000).toISOString().slice(0, 16);
    await page.fill('[data-testid=schedule-local]', anHourAgo);
    const past = page.locator('[data-rule="campaign.schedule_past"]', { hasText: 'already passed' });
    await past.waitFor();
    assert.ok(await page.isDisabled('[data-testid=launch-campaign]'));
    await page.fill('[data-testid=schedule-local]', local);
    await past.waitFor({ state: 'detached' });
    await page.click('[data-testid=launch-campaign]');
    assert.match(await page.locator('[data-testid=launch-confirm]').textContent(), /^Schedule for .* \(UTC\): \d+ people as of now/);
    await page.click('[data-testid=confirm-launch]');
    await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
    await waitForHydration(page);
    assert.equal(await page.textContent('[data-testid=campaign-status]'), 'scheduled');
    assert.match(await page.textContent('[data-testid=status-detail]'), new RegExp(local.replace('T', ' ')));

    await page.waitForFunction(
      () => ['running', 'completed'].includes(document.querySelector('[data-testid=campaign-status]')?.textContent),
      null, { timeout: 4 * 60_000, polling: 200 });
    const startedAt = Date.now();
    assert.ok(startedAt >= start.getTime() - 1_000, `started early: ${new Date(startedAt).toISOString()} < ${local}`);
    assert.ok(startedAt <= start.getTime() + 5_000, `started late: ${new Date(startedAt).toISOString()} > ${local}`);
    await page.waitForSelector('[data-testid=campaign][data-status=completed]', { timeout: 60_000 });
    assert.deepEqual(errors, []);
  });
});

test('a recipient WhatsApp holds back for a day shows as waiting, and cancelling settles everyone', async () => {
  await withPage(env.browser, 'campaign-deferred', async (page, errors) => {
    await signIn(page, false);
    // The sandbox answers 131049 (per-user marketing limit) for numbers ending in 049.
    await importList(page, 'held.csv', 'phone,first_name\n+905321000049,Held\n+905321000061,Free\n');

    await page.goto(`${env.herald.base}/campaigns/new`);
    await waitForHydration(page);
    await page.fill('[data-testid=campaign-name]', 'Held back');
    await page.selectOption('[data-testid=campaign-import]', { label: 'held.csv (2 rows)' });
    await page.locator('[data-testid=campaign-template]').selectOption({ index: 1 });
    await page.fill('[data-testid=binding-fallback]', 'friend');
    await page.click('[data-testid=launch-campaign]');
    assert.match(await page.locator('[data-testid=launch-confirm]').textContent(), /^Send to 2 people/);
    await page.click('[data-testid=confirm-launch]');
    await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
    await waitForHydration(page);

    // Live, without a reload: still running, but saying who waits, why and until when.
    const waiting = page.locator('[data-testid=waiting]');
    await waiting.waitFor({ timeout: 30_000 });
    const said = await waiting.textContent();
    assert.match(said, /1 recipient\(s\) held back/);
    assert.match(said, /131049/);
    assert.equal(await page.textContent('[data-testid=campaign-status]'), 'running');

    // Cancelled from the page: the one held back is settled as cancelled, nothing stays waiting,
    // and the history says so without a reload.
    page.once('dialog', (dialog) => dialog.accept());
    await page.click('[data-testid=cancel]');
    await page.waitForSelector('[data-testid=campaign][data-status=cancelled]', { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=count-pending]')?.textContent === '0');
    assert.equal(await page.textContent('[data-testid=count-skipped]'), '1');
    await page.locator('.history li', { hasText: 'Cancelled by a user.' }).waitFor();
    assert.deepEqual(errors, []);
  });
});

test('seed 004: reply 1 gets the cart, the coupon button gets the code, silence gets nothing, counted live', async () => {
  await withPage(env.browser, 'campaign-follow-ups', async (page, errors) => {
    await signIn(page, false);
    await fillWizard(page, 'Cart reminder');
    await page.check('[data-testid=follow-ups-on]');
    const first = page.locator('[data-testid=follow-up-branch-0]');
    await first.locator('[data-testid=branch-text]').fill('Here is your cart: https://shop.example/cart');
    const second = page.locator('[data-testid=follow-up-branch-1]');
    await second.locator('[data-testid=branch-trigger]').selectOption('payload');
    await second.locator('[data-testid=branch-value]').fill('COUPON');
    await second.locator('[data-testid=branch-value]').dispatchEvent('change');
    // A branch without its message is refused live, naming the rule.
    await page.locator('[data-rule="follow_up.text_length"]').waitFor();
    await second.locator('[data-testid=branch-text]').fill('Your code: SPRING10');
    await page.locator('[data-rule^="follow_up."]').waitFor({ state: 'detached' });
    await page.click('[data-testid=launch-campaign]');
    await page.click('[data-testid=confirm-launch]');
    await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
    const campaign = page.url();
    await page.waitForSelector('[data-testid=campaign][data-status=completed]', { timeout: 60_000 });
    await page.locator('[data-testid=follow-up-waiting]', { hasText: '5' }).waitFor({ timeout: 10_000 });

    // Customer 1 writes "1"; customer 2 taps the coupon button of the message it got.
    const settings = await page.context().newPage();
    await settings.goto(`${env.herald.base}/settings`);
    await waitForHydration(settings);
    const simulate = settings.locator('[data-testid=connection-card][data-kind=sandbox] [data-testid=simulate-form]');
    await simulate.getByLabel('From').fill('+905321000001');
    await simulate.locator('[data-testid=simulate-what]').fill('1');
    await simulate.locator('button[type=submit]').click();
    await simulate.locator('.notice').waitFor();
    await simulate.getByLabel('From').fill('+905321000002');
    await simulate.locator('[data-testid=simulate-does]').selectOption('button');
    await simulate.locator('[data-testid=simulate-what]').fill('COUPON');
    await simulate.locator('button[type=submit]').click();
    await simulate.locator('.notice').waitFor();
    await settings.close();

    // The campaign page, open all along, counts them live: 1 / 1 and 3 still waiting.
    assert.equal(page.url(), campaign);
    await page.locator('[data-testid=follow-up-branch-0] [data-testid=chosen]', { hasText: '1' }).waitFor({ timeout: 15_000 });
    await page.locator('[data-testid=follow-up-branch-1] [data-testid=chosen]', { hasText: '1' }).waitFor({ timeout: 15_000 });
    await page.locator('[data-testid=follow-up-waiting]', { hasText: '3' }).waitFor();

    // Customer 1's conversation shows the cart message that followed the reply.
    await page.goto(`${env.herald.base}/contacts/905321000001`);
    await page.locator('[data-testid=contact-history] [data-testid=history-message][data-direction=outbound]',
      { hasText: 'Here is your cart' }).waitFor({ timeout: 15_000 });
    assert.deepEqual(errors, []);
  });
});
