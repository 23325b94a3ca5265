// Real-browser test of dataset batches: an admin uploads a CSV whose bad rows are listed,
// fixes it, and watches the batch's progress bar move to done, updated in place by
// htmx's polling (the page is never reloaded); then the page without JavaScript.
//
//   TEST_FILES=batches.test.mjs bash tests/browser/run.sh
//
// The built-in demo model answers each row, slowed down (DEMO_WORD_DELAY_MS) so that the
// bar has something to show. SCREENSHOTS=1 also (re)writes docs/screenshots/batch-*.png.
// Helpers, environment and failure diagnostics: see helpers.mjs.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, SCREENSHOTS, SCREENSHOT_DIR, browserTest, pathOf, waitForScripts } from './helpers.mjs';

const ADMIN = { email: 'admin@example.com', password: 'a long admin passphrase' };
const DESKTOP = { viewport: { width: 1280, height: 900 }, colorScheme: 'light' };
const BATCH_URL = /^\/admin\/batches\/(\d+)$/;

/** A fresh database holding an admin account, made with `promptship create-admin`. */
function databaseWithAdmin() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptship-batches-'));
  const url = `sqlite://${path.join(dir, 'test.db')}`;
  execFileSync(BIN, ['create-admin', '--email', ADMIN.email], {
    env: { ...process.env, DATABASE_URL: url, ADMIN_PASSWORD: ADMIN.password, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' },
    stdio: 'pipe',
  });
  return url;
}

async function logIn(page) {
  await page.goto('/login');
  await page.locator('input[name=email]').fill(ADMIN.email);
  await page.locator('input[name=password]').fill(ADMIN.password);
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')), page.locator('form[action="/login"] button[type=submit]').click()]);
}

const QUESTIONS = [
  'What is a good first hike near Seoul?',
  'How do I pay for the subway in Busan?',
  'Which market has the best street food?',
  'When do the cherry blossoms bloom in Jeju?',
  'How early should I book a KTX ticket?',
  'What should I pack for a temple stay?',
];

async function chooseFile(page, name, text) {
  await page.locator('input[type=file][name=file]').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });
}

browserTest(
  'with JavaScript: an upload lists its bad rows, then a good one runs and its progress bar moves to done',
  { env: { DATABASE_URL: databaseWithAdmin(), DEMO_WORD_DELAY_MS: '12' } },
  async ({ openPage, pageErrors }) => {
    const page = await openPage(DESKTOP);
    await logIn(page);
    await page.goto('/admin');
    await page.locator('a[href="/admin/batches"]').first().click();
    await page.waitForURL('**/admin/batches');
    await page.locator('a[href="/admin/batches/new"]').click();
    await page.waitForURL('**/admin/batches/new');
    await waitForScripts(page);

    // A file with two bad rows: both listed, nothing imported, the form kept.
    await page.locator('input[name=name]').fill('Travel questions');
    await page.locator('input[name=concurrency]').fill('2');
    await chooseFile(page, 'questions.csv', 'message,notes\nfine,\n');
    await page.locator('form[action="/admin/batches"] button[type=submit]').click();
    await page.locator('#batch-problem').waitFor();
    assert.match(await page.locator('#batch-problem').textContent(), /`notes`/);
    await chooseFile(page, 'questions.csv', `message\n${QUESTIONS[0]}\n\n"bad\u0007bell"\n${QUESTIONS[1]}\n \n`);
    await page.locator('form[action="/admin/batches"] button[type=submit]').click();
    await page.locator('#batch-problem .row-errors li').first().waitFor();
    const rows = await page.locator('#batch-problem .row-errors li').allTextContents();
    assert.deepEqual(
      rows.map((r) => r.match(/^Row (\d+)/)?.[1]),
      ['4', '6'],
      `the bad rows listed: ${JSON.stringify(rows)}`,
    );
    assert.equal(await page.locator('input[name=name]').inputValue(), 'Travel questions', 'the form was not kept');
    if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'batch-errors.png'), fullPage: true });

    // The good file: the batch's page, its bar filled in place by polling.
    await chooseFile(page, 'questions.csv', `message\n${QUESTIONS.map((q) => `"${q}"`).join('\n')}\n`);
    await page.locator('form[action="/admin/batches"] button[type=submit]').click();
    await page.waitForURL((url) => BATCH_URL.test(url.pathname));
    await waitForScripts(page);
    await page.evaluate(() => {
      window.__samePage = true;
      window.__bar = [];
      setInterval(() => {
        const bar = document.querySelector('#batch-bar');
        if (bar) window.__bar.push(Number(bar.value));
      }, 50);
    });
    await page.waitForFunction(() => {
      const bar = document.querySelector('#batch-bar');
      return bar && Number(bar.value) > 0 && Number(bar.value) < Number(bar.max);
    }, null, { timeout: 20_000 });
    if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'batch-running.png'), fullPage: true });
    await page.locator('#batch-progress[data-state=done]').waitFor({ timeout: 30_000 });
    const seen = await page.evaluate(() => ({ same: window.__samePage, bar: window.__bar }));
    assert.equal(seen.same, true, 'the page was reloaded instead of updated in place');
    const values = [...new Set(seen.bar)];
    assert.ok(values.length >= 3, `the bar did not move in steps: ${JSON.stringify(values)}`);
    assert.deepEqual(values, [...values].sort((a, b) => a - b), 'the bar went backwards');
    assert.equal(await page.locator('#batch-bar').getAttribute('value'), String(QUESTIONS.length));
    assert.equal((await page.locator('#batch-done').textContent()).trim(), String(QUESTIONS.length));
    assert.equal(await page.locator('#batch-progress').getAttribute('hx-trigger'), null, 'a done batch still polls');
    // Each item links to its run, which holds the question and the demo's answer.
    const links = page.locator('#batch-progress a', { hasText: 'Open the run' });
    assert.equal(await links.count(), QUESTIONS.length);
    if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'batch-done.png'), fullPage: true });
    const batch = pathOf(page);
    await links.first().click();
    await page.waitForURL('**/conversations/*');
    assert.match(await page.locator('main').textContent(), /first hike near Seoul/);
    assert.deepEqual(pageErrors, []);

    // Without JavaScript the same page is whole, with a refresh link while it runs.
    const plain = await openPage({ ...DESKTOP, javaScriptEnabled: false });
    await logIn(plain);
    await plain.goto(batch);
    assert.equal(await plain.locator('#batch-bar').getAttribute('value'), String(QUESTIONS.length));
    assert.equal(await plain.locator('#batch-progress[data-state=done]').count(), 1);
  },
);
