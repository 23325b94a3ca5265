// Real-browser test of the review queue: a reviewer works through three answers by
// keyboard alone (accept with `a`, edit with `e` and Ctrl+Enter, reject with `r` and a
// reason's digit), moves through the list with j/k, and the keys stay quiet while
// typing.
//
//   TEST_FILES=review.test.mjs bash tests/browser/run.sh
//
// SCREENSHOTS=1 also (re)writes docs/screenshots/review-{list,item,reject}.png.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BIN,
  REPO,
  SCREENSHOTS,
  SCREENSHOT_DIR,
  browserTest,
  pathOf,
  waitForScripts,
} from './helpers.mjs';

const PASSWORD = 'correct horse battery staple';
const ADMIN = 'admin@example.com';
const DESKTOP = { viewport: { width: 1280, height: 900 }, colorScheme: 'light' };
const ITEM_URL = /^\/review\/(\d+)$/;

// The shipped site file with data_policy "accounts", and a database this file can reach
// (the admin is made with `promptship create-admin`, as an operator does).
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptship-review-'));
const site = path.join(dir, 'site.toml');
fs.writeFileSync(
  site,
  fs.readFileSync(path.join(REPO, 'promptship.toml'), 'utf8').replace('data_policy = "off"', 'data_policy = "accounts"'),
);
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

async function shoot(page, file) {
  if (!SCREENSHOTS) return;
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.evaluate(() => document.fonts.ready);
  const target = path.join(SCREENSHOT_DIR, file);
  await page.screenshot({ path: target, animations: 'disabled', caret: 'hide' });
  assert.ok(fs.statSync(target).size > 10_000, `${file} looks empty`);
}

/** Presses `key` and waits for the page it leads to (after the POST's 303s). */
async function pressAndLoad(page, key) {
  const loaded = page.waitForEvent('load');
  await page.keyboard.press(key);
  await loaded;
  await waitForScripts(page);
}

browserTest(
  'a reviewer works through the queue by keyboard',
  { env: { PROMPTSHIP_SITE: site, DATABASE_URL: `sqlite://${path.join(dir, 'review.db')}`, DEMO_WORD_DELAY_MS: '0' } },
  async ({ openPage, pageErrors }) => {
    // A user with three answered questions.
    const user = await openPage(DESKTOP);
    const signedUp = await user.request.post('/signup', { form: { email: 'user@example.com', password: PASSWORD }, maxRedirects: 0 });
    assert.equal(signedUp.status(), 303);
    for (const question of ['What is SQLite?', 'Name a Rust web framework', 'Why review answers?']) {
      const created = await user.request.post('/api/v1/conversations', { data: { title: question } });
      assert.equal(created.status(), 201);
      const { id } = await created.json();
      const answered = await user.request.post(`/api/v1/conversations/${id}/messages`, { data: { content: question } });
      assert.equal(answered.status(), 200, await answered.text());
    }

    execFileSync(BIN, ['create-admin', '--email', ADMIN], {
      cwd: REPO,
      env: { ...process.env, DATABASE_URL: `sqlite://${path.join(dir, 'review.db')}`, ADMIN_PASSWORD: PASSWORD, PROMPTSHIP_SITE: site },
      stdio: 'pipe',
    });
    const page = await openPage(DESKTOP);
    const loggedIn = await page.request.post('/login', { form: { email: ADMIN, password: PASSWORD }, maxRedirects: 0 });
    assert.equal(loggedIn.status(), 303);

    await page.goto('/review');
    await waitForScripts(page);
    const rows = page.locator('table.review-list tbody tr');
    assert.equal(await rows.count(), 3);
    await shoot(page, 'review-list.png');

    // `n`: one at a time, starting with the oldest answer.
    await pressAndLoad(page, 'n');
    const first = Number(pathOf(page).match(ITEM_URL)?.[1]);
    assert.ok(first, `not an answer's page: ${page.url()}`);
    assert.match(await page.locator('#lease').textContent(), /You hold this answer until/);
    await shoot(page, 'review-item.png');

    // `a` accepts and goes on to the next.
    await pressAndLoad(page, 'a');
    const second = Number(pathOf(page).match(ITEM_URL)?.[1]);
    assert.ok(second > first, `after accepting ${first}: ${page.url()}`);

    // `e` focuses the edit box; letters typed there are text, not keys; Ctrl+Enter saves.
    await page.keyboard.press('e');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'edit');
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type('A reviewed answer: salsa, rust and sqlite.');
    assert.equal(pathOf(page), `/review/${second}`, 'typing in the edit box pressed a key');
    await pressAndLoad(page, 'ControlOrMeta+Enter');
    const third = Number(pathOf(page).match(ITEM_URL)?.[1]);
    assert.ok(third > second, `after editing ${second}: ${page.url()}`);

    // `r` opens the reasons; a digit picks one.
    await page.keyboard.press('r');
    assert.ok(await page.locator('#reject').evaluate((d) => d.open), 'r did not open the reasons');
    await shoot(page, 'review-reject.png');
    await pressAndLoad(page, '3');
    assert.equal(pathOf(page), '/review');
    assert.match(await page.locator('#queue-done').textContent(), /Nothing left to review/);

    // The list shows what was decided, and j/k move through it.
    const states = await rows.locator('.review-state').allTextContents();
    assert.deepEqual(states, ['accepted', 'edited', 'rejected']);
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    const focused = await page.evaluate(() => document.activeElement?.closest('tr')?.dataset.answer);
    assert.equal(Number(focused), first);
    await pressAndLoad(page, 'Enter');
    assert.equal(pathOf(page), `/review/${first}`);
    const trail = await page.locator('#audit tbody tr').allTextContents();
    assert.equal(trail.length, 1);
    assert.match(trail[0], /admin@example\.com\s*pending → accepted/);

    // The edit was saved with its text before and after.
    await page.goto(`/review/${second}`);
    assert.match(await page.locator('#audit').textContent(), /A reviewed answer: salsa, rust and sqlite\./);
    await page.goto(`/review/${third}`);
    assert.match(await page.locator('#review-meta, .review-meta').textContent(), /rejected \(Wrong facts\)/);
    assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
  },
);
