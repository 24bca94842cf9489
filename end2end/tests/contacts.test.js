// Contacts end to end against the release binary: import an Excel list and a CSV with good and
// bad rows, watch the progress bar and read the report, then build a segment and see its count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { OWNER, PASSWORD, heraldAndBrowser, waitForHydration, withPage } from './harness.js';

const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

const env = heraldAndBrowser();

async function setUpAndSignIn(page) {
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
}

async function importFile(page, path, expected) {
  await page.goto(`${env.herald.base}/contacts/import`);
  await waitForHydration(page);
  await page.setInputFiles('[data-testid=import-file]', path);
  await page.click('[data-testid=upload]');
  await page.waitForURL(/\/contacts\/imports\/[0-9a-f-]{36}$/);
  await waitForHydration(page);
  // Herald guessed the phone column from its header.
  assert.equal(await page.locator('[data-testid=mapping-target]').first().inputValue(), 'phone');
  await page.check('[data-testid=consent-marketing]');
  await page.click('[data-testid=start-import]');
  await page.waitForSelector('[data-testid=import-bar]');
  await page.waitForSelector('[data-testid=import-progress][data-state=done]', { timeout: 30_000 });
  assert.equal(await page.textContent('[data-testid=count-created]'), String(expected.created));
  assert.equal(await page.textContent('[data-testid=count-rejected]'), String(expected.rejected));
  assert.equal(await page.locator('[data-testid=reject-row]').count(), expected.rejected);
  return page.locator('[data-testid=reject-row]').allTextContents();
}

test('an Excel list and a CSV are imported with a report, then a segment counts them', async () => {
  await withPage(env.browser, 'contacts-import', async (page, errors) => {
    await setUpAndSignIn(page);

    // The Excel fixture: 3 good rows, one invalid number, one empty number.
    const xlsxRejects = await importFile(page, join(FIXTURES, 'customers.xlsx'), { created: 3, rejected: 2 });
    assert.ok(xlsxRejects.some((r) => r.includes('not a valid number')), xlsxRejects.join('|'));

    // A CSV (semicolons, national numbers) with a duplicate of an Excel row's number inside
    // itself and a bad attribute value.
    const csv = join(env.herald.dir, 'more.csv');
    writeFileSync(csv, 'Telefon;Ad;Etiket\n0532 765 43 21;Deniz;vip\n05327654321;Deniz;vip\nnot a phone;X;\n+14155552671;John;vip\n');
    const csvRejects = await importFile(page, csv, { created: 2, rejected: 2 });
    assert.ok(csvRejects.some((r) => r.includes('already appears on line 2')), csvRejects.join('|'));

    const report = await page.request.get(env.herald.base + await page.getAttribute('[data-testid=report-csv]', 'href'));
    assert.equal(report.status(), 200);
    assert.match(await report.text(), /^line,phone,rule,reason\r\n3,05327654321,import.duplicate,/);

    // Five contacts in the table.
    await page.goto(`${env.herald.base}/contacts`);
    await waitForHydration(page);
    assert.equal(await page.locator('[data-testid=contact-row]').count(), 5);

    // A segment of VIPs: the count follows the conditions live.
    await page.goto(`${env.herald.base}/contacts/segments`);
    await waitForHydration(page);
    await page.click('[data-testid=add-condition]');
    await page.fill('[data-testid=condition-value]', 'vip');
    await page.waitForFunction(() => document.querySelector('[data-testid=segment-count]')?.textContent === '3');
    await page.selectOption('[data-testid=condition-field]', 'country');
    await page.fill('[data-testid=condition-value]', 'US');
    await page.waitForFunction(() => document.querySelector('[data-testid=segment-count]')?.textContent === '1');
    await page.fill('[data-testid=segment-name]', 'Americans');
    await page.click('[data-testid=save-segment]');
    await page.waitForSelector('[data-testid=segment-row]');
    assert.match(await page.textContent('[data-testid=segment-list]'), /Americans/);
    assert.deepEqual(errors, []);
  });
});
