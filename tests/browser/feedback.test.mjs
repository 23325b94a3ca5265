// Real-browser tests of judging answers: thumbs and a correction with htmx (the block
// swapped in place, kept after a reload), the same forms without JavaScript, and the
// earlier answer a regenerate keeps, marked as the better one.
//
//   TEST_FILES=feedback.test.mjs bash tests/browser/run.sh
//
// SCREENSHOTS=1 also (re)writes docs/screenshots/feedback-*.png.
// Helpers, environment and failure diagnostics: see helpers.mjs.

import assert from 'node:assert/strict';
import path from 'node:path';
import {
  SCREENSHOTS,
  SCREENSHOT_DIR,
  browserTest,
  pathOf,
  recordPosts,
  sendWithoutJavaScript,
  waitForAnswer,
  waitForScripts,
} from './helpers.mjs';

const DESKTOP = { viewport: { width: 1280, height: 900 }, colorScheme: 'light' };

/** The one answer's feedback block. */
const feedback = (page) => page.locator('#messages > article.message.assistant .feedback');

browserTest('with JavaScript: a thumb and a correction are saved in place and kept', {}, async ({ openPage, pageErrors }) => {
  const page = await openPage(DESKTOP);
  const posts = recordPosts(page);
  await page.goto('/');
  await waitForScripts(page);
  await page.locator('#content').fill('What is the capital of France?');
  await page.keyboard.press('Enter');
  await waitForAnswer(page, 1);
  const conversation = pathOf(page);

  // A thumb: one htmx POST, the block swapped with the thumb pressed, no page load.
  const down = feedback(page).getByRole('button', { name: 'Bad answer' });
  await down.click();
  await feedback(page).getByRole('status').filter({ hasText: 'Thank you: saved.' }).waitFor();
  assert.equal(await feedback(page).getByRole('button', { name: 'Bad answer' }).getAttribute('aria-pressed'), 'true');
  assert.deepEqual(posts.at(-1), { path: posts.at(-1).path, htmx: true });
  assert.match(posts.at(-1).path, /^\/messages\/\d+\/feedback$/);
  assert.equal(pathOf(page), conversation, 'the page did not stay');

  // The details: a reason and a better answer.
  await feedback(page).locator('summary').click();
  await feedback(page).getByLabel('Wrong facts').check();
  await feedback(page).getByLabel('Write a better answer').fill('Paris is the capital of France.');
  if (SCREENSHOTS) {
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'feedback-correction.png'), fullPage: true });
  }
  await feedback(page).getByRole('button', { name: 'Save feedback' }).click();
  await feedback(page).getByRole('status').filter({ hasText: 'Thank you: saved.' }).waitFor();
  // The details stay open after saving them, and the thumb was kept.
  assert.equal(await feedback(page).getByLabel('Wrong facts').isChecked(), true);
  assert.equal(await feedback(page).getByRole('button', { name: 'Bad answer' }).getAttribute('aria-pressed'), 'true');

  // All of it is there after a reload.
  await page.reload();
  await feedback(page).locator('summary').click();
  assert.equal(await feedback(page).getByLabel('Wrong facts').isChecked(), true);
  assert.equal(await feedback(page).getByLabel('Write a better answer').inputValue(), 'Paris is the capital of France.');
  assert.equal(await feedback(page).getByRole('button', { name: 'Bad answer' }).getAttribute('aria-pressed'), 'true');

  // Remove it: the block comes back empty.
  await feedback(page).getByRole('button', { name: 'Remove my feedback' }).click();
  await feedback(page).getByRole('status').filter({ hasText: 'Removed.' }).waitFor();
  assert.equal(await feedback(page).getByRole('button', { name: 'Bad answer' }).getAttribute('aria-pressed'), 'false');
  assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
});

browserTest('without JavaScript: the forms post and come back to the answer; the better sibling is marked', {}, async ({ openPage }) => {
  const page = await openPage({ ...DESKTOP, javaScriptEnabled: false });
  await page.goto('/');
  await sendWithoutJavaScript(page, 'Write a haiku about SQLite');
  const conversation = pathOf(page);

  await feedback(page).getByRole('button', { name: 'Good answer' }).click();
  await page.waitForURL((url) => url.pathname === conversation);
  assert.equal(await feedback(page).getByRole('button', { name: 'Good answer' }).getAttribute('aria-pressed'), 'true');

  // Regenerate keeps the first answer, folded away before the new one.
  await page.getByRole('button', { name: 'Regenerate' }).click();
  await page.waitForURL((url) => url.pathname === conversation);
  const folded = page.locator('#messages details.alternatives');
  assert.equal(await folded.locator(':scope > summary').textContent(), '1 other answer to this question');
  assert.equal(await page.locator('#messages > article.message.assistant').count(), 1);

  // Mark the first one better: it becomes the answer the conversation goes on from.
  const firstId = await folded.locator('article.message.assistant').getAttribute('id');
  await folded.locator(':scope > summary').click();
  await folded.getByRole('button', { name: 'This one is better' }).click();
  await page.waitForURL((url) => url.pathname === conversation);
  const shown = page.locator('#messages > article.message.assistant');
  assert.equal(await shown.getAttribute('id'), firstId);
  assert.match(await shown.locator('.preferred').textContent(), /Marked as the better answer/);
  // Its thumb is still up.
  assert.equal(await shown.getByRole('button', { name: 'Good answer' }).getAttribute('aria-pressed'), 'true');
  if (SCREENSHOTS) {
    await page.locator('#messages details.alternatives > summary').click();
    // A window tall enough for both answers: the composer's dock sticks to its bottom.
    await page.setViewportSize({ width: 1280, height: 1700 });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'feedback-siblings.png') });
  }
});
