// Real-browser tests of share links: share from the chat's menu (htmx shows the link),
// open it in a fresh browser (read-only, no composer, not indexed), continue it in
// one's own chat; the same without JavaScript, and revoking.
//
//   TEST_FILES=shares.test.mjs bash tests/browser/run.sh
//
// SCREENSHOTS=1 also (re)writes docs/screenshots/share.png and share-ko.png.
// Helpers, environment and failure diagnostics: see helpers.mjs.

import assert from 'node:assert/strict';
import path from 'node:path';
import {
  CONVERSATION_URL,
  SCREENSHOTS,
  SCREENSHOT_DIR,
  assertNoSidewaysScroll,
  browserTest,
  pathOf,
  sendWithoutJavaScript,
  waitForAnswer,
  waitForScripts,
} from './helpers.mjs';

const DESKTOP = { viewport: { width: 1280, height: 900 }, colorScheme: 'light' };
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

browserTest('share from the chat, read the link in a fresh browser, continue in my own chat', {}, async ({ openPage, pageErrors }) => {
  const page = await openPage(DESKTOP);
  await page.goto('/');
  await waitForScripts(page);
  await page.locator('#content').fill('Write a haiku about SQLite');
  await page.keyboard.press('Enter');
  await waitForAnswer(page, 1);
  await page.reload();
  const conversation = pathOf(page);
  const answer = (await page.locator('#messages article.message.assistant .content').textContent()).trim();

  // Share: htmx swaps the link into the menu, without leaving the page.
  await page.locator('details.actions > summary').click();
  await page.locator('details.actions').getByRole('button', { name: 'Share', exact: true }).click();
  const link = page.locator('#share-link-url');
  await link.waitFor();
  const url = await link.getAttribute('href');
  assert.match(url, /\/s\/[A-Za-z0-9_-]{22}$/);
  assert.equal(pathOf(page), conversation, 'the page stayed');
  // A message written now stays out of the shared snapshot.
  await page.locator('#content').fill('A private follow-up');
  await page.keyboard.press('Enter');
  await waitForAnswer(page, 2);

  // A stranger: a fresh browser with no cookie.
  const stranger = await openPage(DESKTOP);
  const response = await stranger.goto(url);
  assert.equal(response.status(), 200);
  assert.equal(response.headers()['x-robots-tag'], 'noindex, nofollow');
  assert.equal(response.headers()['referrer-policy'], 'no-referrer');
  assert.equal(await stranger.locator('meta[name=robots]').getAttribute('content'), 'noindex, nofollow');
  assert.match(await stranger.locator('meta[property="og:image"]').getAttribute('content'), /\/preview\.png\?v=\d+$/);
  assert.equal(await stranger.locator('#composer').count(), 0, 'no composer');
  assert.equal(await stranger.locator('.sidebar').count(), 0, 'no sidebar');
  await stranger.locator('article.message.user .content', { hasText: 'Write a haiku about SQLite' }).waitFor();
  assert.equal((await stranger.locator('article.message.assistant .content').textContent()).trim(), answer);
  assert.equal(await stranger.getByText('A private follow-up').count(), 0, 'later messages stay private');
  // The preview image loads.
  const preview = await stranger.request.get(new URL(url).pathname + '/preview.png');
  assert.equal(preview.status(), 200);
  assert.equal(preview.headers()['content-type'], 'image/png');
  if (SCREENSHOTS) {
    await stranger.screenshot({ path: path.join(SCREENSHOT_DIR, 'share.png'), fullPage: true });
  }

  // In Korean: the same page in the reader's language.
  const korean = await openPage({ ...DESKTOP, locale: 'ko-KR', extraHTTPHeaders: { 'Accept-Language': 'ko-KR,ko;q=0.9' } });
  await korean.goto(url);
  assert.equal(await korean.locator('html').getAttribute('lang'), 'ko');
  await korean.getByRole('button', { name: '내 대화로 이어가기' }).waitFor();
  if (SCREENSHOTS) {
    await korean.screenshot({ path: path.join(SCREENSHOT_DIR, 'share-ko.png'), fullPage: true });
  }
  // On a phone: the page fits the screen's width.
  const phone = await openPage({ ...PHONE, extraHTTPHeaders: { 'Accept-Language': 'ko' } });
  await phone.goto(url);
  await assertNoSidewaysScroll(phone, 'a share page on a phone');

  // Continue in my own chat: a conversation of the stranger's, with the same messages.
  await stranger.getByRole('button', { name: 'Continue in my own chat' }).click();
  await stranger.waitForURL(CONVERSATION_URL);
  assert.notEqual(pathOf(stranger), conversation);
  assert.equal((await stranger.locator('#messages article.message.assistant .content').textContent()).trim(), answer);
  await stranger.locator('#composer').waitFor();
  assert.equal(await stranger.locator('nav[aria-label=Conversations] li a').count(), 1, 'the copy is in their list');
  assert.deepEqual(pageErrors, [], 'the pages threw JavaScript errors');
});

browserTest('without JavaScript: share, find it on "Shared links", revoke it', {}, async ({ openPage }) => {
  const page = await openPage({ ...DESKTOP, javaScriptEnabled: false });
  await page.goto('/');
  await sendWithoutJavaScript(page, 'What makes a good README?');
  await page.locator('details.actions > summary').click();
  await page.locator('details.actions').getByRole('button', { name: 'Share', exact: true }).click();
  await page.waitForURL(/\/settings\/shares$/);
  const url = await page.locator('a.share-url').first().getAttribute('href');
  assert.match(url, /\/s\/[A-Za-z0-9_-]{22}$/);

  await page.getByRole('button', { name: /^Revoke/ }).click();
  await page.waitForURL(/\/settings\/shares$/);
  assert.equal(await page.locator('a.share-url').count(), 0);
  const gone = await page.goto(url);
  assert.equal(gone.status(), 404);
});

browserTest('an app run streamed by htmx offers Share without a reload', {}, async ({ openPage, pageErrors }) => {
  const page = await openPage(DESKTOP);
  await page.goto('/apps/translate');
  await waitForScripts(page);
  await page.getByRole('link', { name: 'Fill with the sample', exact: true }).click();
  await page.waitForURL('**/apps/translate?sample');
  await waitForScripts(page);
  let loads = 0;
  page.on('load', () => loads++);
  await page.locator('#app-form button[type=submit]').click();
  const result = page.locator('#result article.run[data-status=complete]');
  await result.waitFor({ timeout: 20_000 });
  await result.getByRole('button', { name: 'Share', exact: true }).click();
  const link = result.locator('#share-result a.share-url');
  await link.waitFor();
  assert.match(await link.getAttribute('href'), /\/s\/[A-Za-z0-9_-]{22}$/);
  assert.equal(loads, 0, 'the run, its result and its link came without a page load');
  const shared = await openPage(DESKTOP);
  const response = await shared.goto(await link.getAttribute('href'));
  assert.equal(response.status(), 200);
  assert.deepEqual(pageErrors, []);
});
