// The inbox end to end against the release binary: a simulated customer writes; the
// conversation appears live with an unread badge (no reload); the agent opens it, answers with
// formatted text and follows the ticks; the customer taps a button and the tap shows in the
// open thread as what was tapped; the customer sends a photo that Herald downloads and shows;
// the agent answers with a photo uploaded to WhatsApp; the agent sends reply buttons quoting the question (the
// composer refusing duplicate titles live), the customer taps one, the agent reacts; a note is
// added, the agent takes the conversation and closes it, and the inbox finds it under
// "assigned to me". Then, on a number whose simulated window lasts 10 s, the
// open thread switches from the free-text composer to approved templates by itself as the window
// closes, and an approved template goes out with its variable filled from the customer.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { OWNER, PASSWORD, heraldAndBrowser, waitForHydration, withPage } from './harness.js';

const env = heraldAndBrowser();

test('a customer writes, the inbox shows it live, the agent answers and sees it read', async () => {
  await withPage(env.browser, 'conversations', async (page, errors) => {
    await page.goto(`${env.herald.base}/setup`);
    await page.fill('#username', OWNER);
    await page.fill('#password', PASSWORD);
    await page.fill('#password_confirm', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/login/);
    await page.fill('#username', OWNER);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${env.herald.base}/`);

    await page.goto(`${env.herald.base}/conversations`);
    await waitForHydration(page);
    await page.locator('text=No conversations here').waitFor();
    await page.evaluate(() => { window.__sameDocument = true; });

    // The simulated customer writes, from the Settings page in a second tab.
    const settings = await page.context().newPage();
    await settings.goto(`${env.herald.base}/settings`);
    await waitForHydration(settings);
    const card = settings.locator('[data-testid=connection-card][data-kind=sandbox]');
    const simulate = card.locator('[data-testid=simulate-form]');
    await simulate.locator('button[type=submit]').click();
    await simulate.locator('.notice').waitFor();
    await settings.close();

    // It arrives in the open inbox without a reload, unread, and the navigation counts it.
    const row = page.locator('[data-testid=inbox-row]').first();
    await row.waitFor({ timeout: 5_000 });
    assert.match(await row.textContent(), /Is my order on its way\?/);
    assert.equal(await row.locator('[data-testid=unread-badge]').textContent(), '1');
    await page.locator('[data-testid=nav-unread]').waitFor({ timeout: 5_000 });
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');

    // Open it: the message, the open window and its countdown.
    await row.locator('a').click();
    await page.waitForURL(/\/conversations\/[0-9a-f-]{36}$/);
    await waitForHydration(page);
    const thread = page.locator('[data-testid=thread]');
    await thread.locator('[data-direction=inbound]').first().waitFor();
    assert.match(await page.textContent('[data-testid=window]'), /reply freely/);
    assert.match(await page.textContent('[data-testid=window-countdown]'), /2[34] h \d+ min left/);
    // Reading it clears the navigation's badge.
    await page.locator('[data-testid=nav-unread]').waitFor({ state: 'detached', timeout: 5_000 });

    // Answer with WhatsApp formatting, previewed before sending.
    await page.fill('[data-testid=reply-text]', 'Yes, it arrives *tomorrow*.');
    await page.locator('.reply-preview .b', { hasText: 'tomorrow' }).waitFor();
    await page.click('[data-testid=reply-send]');
    const answer = thread.locator('[data-direction=outbound]').last();
    await answer.waitFor();
    assert.match(await answer.textContent(), /Yes, it arrives tomorrow\./);
    assert.equal(await page.inputValue('[data-testid=reply-text]'), '', 'the composer is cleared');
    // The sandbox reports delivery (and, for some, reading); the ticks follow live.
    await page.waitForFunction(
      () => /Delivered|Read/.test(
        [...document.querySelectorAll('[data-testid=thread] [data-direction=outbound] [data-testid=ticks]')]
          .at(-1)?.textContent ?? ''),
      null,
      { timeout: 10_000 },
    );

    // The customer taps a quick-reply button; the tap shows as what was tapped.
    await page.click('[data-testid=simulator] summary');
    await page.selectOption('[data-testid=simulate-kind]', 'button');
    await page.fill('[data-testid=simulate-text]', 'Track my parcel');
    await page.click('[data-testid=simulate-send]');
    await thread.locator('[data-testid=tap]', { hasText: 'Tapped “Track my parcel”' }).waitFor({ timeout: 5_000 });

    // The customer sends a photo: Herald downloads it from (simulated) WhatsApp and shows it.
    await page.selectOption('[data-testid=simulate-kind]', 'photo');
    await page.fill('[data-testid=simulate-text]', 'The box looks like this');
    await page.click('[data-testid=simulate-send]');
    const theirPhoto = thread.locator('[data-direction=inbound]', { hasText: 'The box looks like this' })
      .locator('[data-testid=media-file] img');
    await theirPhoto.waitFor({ timeout: 10_000 });
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await theirPhoto.elementHandle());

    // The agent answers with a photo: uploaded to WhatsApp, sent by its id with a caption.
    await page.click('[data-testid=compose-kind-file]');
    await page.setInputFiles('[data-testid=compose-file]',
      new URL('../../server/src/whatsapp/sandbox/sample-photo.png', import.meta.url).pathname);
    await page.locator('[data-testid=compose-file-ready]', { hasText: 'sample-photo.png' }).waitFor({ timeout: 10_000 });
    await page.fill('[data-testid=reply-text]', 'Ours shows it *intact* at the depot');
    await page.click('[data-testid=reply-send]');
    const ourPhoto = thread.locator('[data-direction=outbound]', { hasText: 'at the depot' })
      .locator('[data-testid=media-file] img');
    await ourPhoto.waitFor({ timeout: 10_000 });
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await ourPhoto.elementHandle());

    // Reply buttons, quoting the customer's question: the composer checks them as they are typed.
    await thread.locator('[data-direction=inbound] [data-testid=quote-reply]').first().click();
    await page.locator('[data-testid=quoting]', { hasText: 'Is my order on its way?' }).waitFor();
    await page.click('[data-testid=compose-kind-reply-buttons]');
    await page.fill('[data-testid=reply-text]', 'Shall we deliver in the morning?');
    await page.fill('[data-testid=compose-button-0]', 'Morning please');
    await page.fill('[data-testid=compose-button-1]', 'morning PLEASE');
    await page.locator('[data-testid=compose-problems]', { hasText: 'two buttons are called' }).waitFor();
    assert.equal(await page.isDisabled('[data-testid=reply-send]'), true, 'a broken draft cannot be sent');
    await page.fill('[data-testid=compose-button-1]', 'Evening');
    await page.locator('[data-testid=compose-problems]').waitFor({ state: 'detached' });
    await page.locator('[data-testid=reply-preview] .bubble-button', { hasText: 'Evening' }).waitFor();
    await page.click('[data-testid=reply-send]');
    const buttons = thread.locator('[data-direction=outbound]', { hasText: 'Shall we deliver in the morning?' });
    await buttons.waitFor();
    assert.match(await buttons.locator('[data-testid=message-quote]').textContent(), /Is my order on its way\?/);
    // The customer taps "Evening" on the buttons sent; the thread shows what was tapped.
    await buttons.locator('[data-testid=customer-tap]', { hasText: 'Evening' }).click({ timeout: 10_000 });
    await thread.locator('[data-testid=tap]', { hasText: 'Tapped “Evening”' }).waitFor({ timeout: 5_000 });
    // A reaction to the tap.
    await thread.locator('[data-direction=inbound]').last().locator('[data-testid=react]').first().click();
    await thread.locator('[data-direction=outbound]', { hasText: 'Reacted 👍' }).waitFor({ timeout: 5_000 });

    // An internal note, then close the conversation.
    await page.click('.note-form summary');
    await page.fill('[data-testid=note-text]', 'Parcel is with the courier');
    await page.click('[data-testid=note-add]');
    await thread.locator('[data-direction=note]', { hasText: 'Parcel is with the courier' }).waitFor();
    // Take it, then close it; the inbox finds it under "assigned to me".
    await page.click('[data-testid=assign-me]');
    await page.locator('[data-testid=conversation-assignee]', { hasText: `Assigned to ${OWNER}` }).waitFor({ timeout: 5_000 });
    await page.click('[data-testid=close]');
    await page.locator('[data-testid=conversation-status]', { hasText: 'Closed' }).waitFor();
    await page.goto(`${env.herald.base}/conversations`);
    await waitForHydration(page);
    await page.click('[data-testid=tab-all]');
    await page.selectOption('[data-testid=inbox-assigned]', 'unassigned');
    await page.locator('text=No conversations here').waitFor({ timeout: 5_000 });
    await page.selectOption('[data-testid=inbox-assigned]', 'me');
    await page.locator('[data-testid=inbox-row] [data-testid=inbox-assignee]', { hasText: OWNER }).waitFor({ timeout: 5_000 });
    assert.deepEqual(errors, []);
  });
});

test('the window closes while the thread is open and an approved template goes out with its variable', async () => {
  await withPage(env.browser, 'conversations-window', async (page, errors) => {
    // Signed up by the first test; sign in.
    await page.goto(`${env.herald.base}/login`);
    await page.fill('#username', OWNER);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${env.herald.base}/`);

    // An approved template of the sandbox number.
    await page.goto(`${env.herald.base}/templates/new`);
    await waitForHydration(page);
    await page.fill('[data-testid=template-name]', 'parcel_update');
    await page.selectOption('[data-testid=template-connection]', { label: 'Sandbox (simulated)' });
    await page.getByLabel('Category').selectOption('UTILITY');
    await page.fill('[data-testid=template-body]', 'Hello {{1}}, your parcel arrives tomorrow.');
    await page.locator('[data-testid=body-example]').first().fill('Ayşe');
    await page.click('[data-testid=submit-template]');
    await page.waitForURL(/\/templates\/[0-9a-f-]{36}$/);
    await page.waitForFunction(
      () => document.querySelector('[data-testid=template-status]')?.textContent.startsWith('Active'),
      null, { timeout: 30_000 });

    // A 10-second window for the sandbox number, then a new customer writes.
    await page.goto(`${env.herald.base}/settings`);
    await waitForHydration(page);
    const card = page.locator('[data-testid=connection-card][data-kind=sandbox]');
    await card.locator('.sandbox-settings summary').click();
    const settings = card.locator('[data-testid=sandbox-settings]');
    await settings.getByLabel(/Customer-service window/).fill('10');
    await settings.locator('button[type=submit]').click();
    await settings.locator('.notice', { hasText: 'Saved' }).waitFor();
    const simulate = card.locator('[data-testid=simulate-form]');
    await simulate.getByLabel('From').fill('+15550109999');
    await simulate.locator('[data-testid=simulate-what]').fill('Where is my parcel?');
    await simulate.locator('button[type=submit]').click();
    await simulate.locator('.notice').waitFor();

    await page.goto(`${env.herald.base}/conversations`);
    await waitForHydration(page);
    const row = page.locator('[data-testid=inbox-row]', { hasText: 'Where is my parcel?' });
    await row.locator('a').click({ timeout: 10_000 });
    await page.waitForURL(/\/conversations\/[0-9a-f-]{36}$/);
    await waitForHydration(page);
    assert.match(await page.textContent('[data-testid=window-countdown]'), /under a minute left/);
    await page.locator('[data-testid=session-composer]').waitFor();

    // The window closes: without a reload the composer offers only approved templates.
    await page.evaluate(() => { window.__sameDocument = true; });
    await page.locator('[data-testid=template-picker]').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('[data-testid=session-composer]').count(), 0);
    assert.match(await page.textContent('[data-testid=window]'), /only an approved template/);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');

    // The template, its variable filled in and previewed, then sent.
    // The number's only approved template is chosen already.
    assert.match(await page.locator('[data-testid=template-choice] option:checked').textContent(), /parcel_update/);
    await page.fill('[data-testid=template-value-0]', 'Deniz');
    await page.locator('[data-testid=template-preview]', { hasText: 'Hello Deniz, your parcel arrives tomorrow.' }).waitFor();
    await page.click('[data-testid=template-send]');
    const sent = page.locator('[data-testid=thread] [data-direction=outbound]', { hasText: 'parcel_update' });
    await sent.waitFor({ timeout: 5_000 });
    assert.deepEqual(errors, []);
  });
});

test('a saved reply keeps a photo, which goes to the customer with its caption', async () => {
  await withPage(env.browser, 'conversations-saved-photo', async (page, errors) => {
    await page.goto(`${env.herald.base}/login`);
    await page.fill('#username', OWNER);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${env.herald.base}/`);

    // A saved reply, then its photo (a file can be attached once the reply exists).
    await page.goto(`${env.herald.base}/templates/new`);
    await waitForHydration(page);
    await page.getByLabel('Kind').selectOption('session_reply');
    await page.locator('[data-testid=saved-reply-file]', { hasText: 'Save the reply first' }).waitFor();
    await page.fill('[data-testid=template-name]', 'todays_menu');
    await page.fill('[data-testid=template-body]', 'Here is *today\'s* menu');
    await page.click('[data-testid=save-template]');
    await page.waitForURL(/\/templates\/[0-9a-f-]{36}$/);
    await waitForHydration(page);
    await page.setInputFiles('[data-testid=saved-reply-file-input]',
      new URL('../../server/src/whatsapp/sandbox/sample-photo.png', import.meta.url).pathname);
    await page.locator('[data-testid=saved-reply-file-name]', { hasText: 'sample-photo.png' }).waitFor({ timeout: 10_000 });

    // A customer writes within a long window (the previous test shortened it).
    await page.goto(`${env.herald.base}/settings`);
    await waitForHydration(page);
    const card = page.locator('[data-testid=connection-card][data-kind=sandbox]');
    await card.locator('.sandbox-settings summary').click();
    const settings = card.locator('[data-testid=sandbox-settings]');
    await settings.getByLabel(/Customer-service window/).fill('86400');
    await settings.locator('button[type=submit]').click();
    await settings.locator('.notice', { hasText: 'Saved' }).waitFor();
    const simulate = card.locator('[data-testid=simulate-form]');
    await simulate.getByLabel('From').fill('+15550107777');
    await simulate.locator('[data-testid=simulate-what]').fill('What can I eat today?');
    await simulate.locator('button[type=submit]').click();
    await simulate.locator('.notice').waitFor();

    await page.goto(`${env.herald.base}/conversations`);
    await waitForHydration(page);
    await page.locator('[data-testid=inbox-row]', { hasText: 'What can I eat today?' }).locator('a').click({ timeout: 10_000 });
    await page.waitForURL(/\/conversations\/[0-9a-f-]{36}$/);
    await waitForHydration(page);
    await page.locator('[data-testid=session-composer]').waitFor();
    const choice = await page.locator('[data-testid=saved-reply] option', { hasText: 'todays_menu' }).getAttribute('value');
    await page.selectOption('[data-testid=saved-reply]', choice);
    await page.locator('[data-testid=compose-file-ready]', { hasText: 'sample-photo.png' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.inputValue('[data-testid=reply-text]'), "Here is *today's* menu");
    await page.click('[data-testid=reply-send]');
    const sent = page.locator('[data-testid=thread] [data-direction=outbound]', { hasText: "Here is today's menu" })
      .locator('[data-testid=media-file] img');
    await sent.waitFor({ timeout: 10_000 });
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await sent.elementHandle());
    assert.deepEqual(errors, []);
  });
});
