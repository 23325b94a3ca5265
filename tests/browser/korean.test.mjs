// Real-browser tests of the pages in Korean: a browser set to Korean (locale ko-KR, so it
// sends Accept-Language: ko-KR) gets the landing page, a conversation, the apps and a
// run's "Copy JSON" in Korean; a long Korean title and message fit a phone's width; the
// switcher brings English back.
//
//   TEST_FILES=korean.test.mjs bash tests/browser/run.sh
//
// SCREENSHOTS=1 also (re)writes docs/screenshots/{chat,apps}-ko.png for the README
// (install fonts-noto-cjk first, or the Korean comes out as boxes).
// Helpers, environment and failure diagnostics: see helpers.mjs.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  CONVERSATION_URL,
  SCREENSHOTS,
  SCREENSHOT_DIR,
  assertNoSidewaysScroll,
  browserTest,
  pathOf,
  recordStream,
  waitForAnswer,
  waitForScripts,
} from './helpers.mjs';

const KOREAN = { locale: 'ko-KR', viewport: { width: 1280, height: 800 }, colorScheme: 'light' };
const PHONE = {
  locale: 'ko-KR',
  viewport: { width: 360, height: 740 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
};

browserTest('a Korean browser gets the chat in Korean, and the switcher brings English back', {}, async ({ openPage, pageErrors }) => {
  const page = await openPage(KOREAN);
  await page.goto('/');
  await waitForScripts(page);
  assert.equal(await page.locator('html').getAttribute('lang'), 'ko');
  assert.equal(await page.locator('.tagline').textContent(), '내 모델을 위한 작고 빠른 자체 호스팅 채팅');
  await page.locator('#sidebar').getByText('새 대화', { exact: true }).waitFor();
  assert.equal(await page.locator('#content').getAttribute('placeholder'), 'promptship에 메시지 보내기 (Enter로 전송, Shift+Enter로 줄바꿈)');

  // A question typed and sent with Enter streams its answer; the controls under it are Korean.
  await recordStream(page);
  await page.locator('#content').fill('서울에서 가 볼 만한 곳을 알려 주세요');
  await page.locator('#content').press('Enter');
  await page.waitForURL(CONVERSATION_URL);
  await waitForAnswer(page, 1);
  const answer = page.locator('#messages article.message.assistant').last();
  await answer.getByRole('button', { name: '좋은 답변', exact: true }).waitFor();
  assert.match(await answer.locator('.meta').textContent(), /토큰 \d+개 · \d+\.\d초/);
  await page.getByRole('button', { name: '다시 답하기', exact: true }).waitFor();

  // Feedback through htmx: the swapped block and its notice stay Korean.
  await answer.getByRole('button', { name: '좋은 답변', exact: true }).click();
  await answer.getByText('고맙습니다. 저장했습니다.', { exact: true }).waitFor();

  if (SCREENSHOTS) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    // The conversation's own page, from the top.
    await page.goto(pathOf(page));
    await page.locator('#messages article.message.assistant.complete').waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.evaluate(() => document.fonts.ready);
    const target = path.join(SCREENSHOT_DIR, 'chat-ko.png');
    await page.screenshot({ path: target, animations: 'disabled', caret: 'hide' });
    assert.ok(fs.statSync(target).size > 10_000, 'chat-ko.png looks empty');
  }

  // English, picked with the switcher, is remembered over the browser's Korean.
  const conversation = pathOf(page);
  await page.getByRole('button', { name: 'English', exact: true }).click();
  await page.waitForURL(`**${conversation}`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.getByRole('button', { name: 'Good answer', exact: true }).first().waitFor();
  await page.goto('/apps');
  assert.equal(await page.locator('h1').textContent(), 'Apps');
  assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
});

browserTest('the apps in Korean: the gallery, a form with Korean labels, and "Copy JSON"', {}, async ({ openPage, pageErrors }) => {
  const page = await openPage({ ...KOREAN, permissions: ['clipboard-read', 'clipboard-write'] });
  await page.goto('/apps');
  assert.equal(await page.locator('h1').textContent(), '앱');
  const titles = await page.locator('.card strong').allTextContents();
  assert.deepEqual(titles, ['정보 추출', '그림 그리기', '면접 준비', '요약하기', '한영 번역']);
  if (SCREENSHOTS) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.evaluate(() => document.fonts.ready);
    const target = path.join(SCREENSHOT_DIR, 'apps-ko.png');
    await page.screenshot({ path: target, animations: 'disabled', caret: 'hide' });
    assert.ok(fs.statSync(target).size > 10_000, 'apps-ko.png looks empty');
  }

  await page.getByRole('link', { name: /정보 추출/ }).click();
  await page.getByRole('link', { name: '예시로 채우기', exact: true }).click();
  await page.waitForURL('**/apps/extract?sample');
  await waitForScripts(page);
  assert.match(await page.getByLabel('텍스트').inputValue(), /spring study group/);
  await page.getByRole('button', { name: '실행', exact: true }).click();
  const result = page.locator('#result article.run[data-status=complete]');
  await result.waitFor({ timeout: 20_000 });
  await result.getByRole('link', { name: '채팅으로 이어 가기', exact: true }).waitFor();

  // app.js says "Copied" in the page's language.
  await result.locator('details.json summary').click();
  const copy = result.getByRole('button', { name: 'JSON 복사', exact: true });
  await copy.click();
  await result.getByRole('button', { name: '복사했습니다', exact: true }).waitFor({ timeout: 2_000 });
  await copy.waitFor({ timeout: 3_000 });
  assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
});

browserTest('a long Korean title and message wrap to fit a phone', {}, async ({ openPage }) => {
  const page = await openPage({ ...PHONE, javaScriptEnabled: false });
  await page.goto('/');
  // Korean words, and a long run without spaces (a URL-like token), at a phone's width.
  const message =
    '안녕하세요 다음 주 화요일에 서울에서 발표가 있습니다 시간이 되시면 꼭 와 주세요 '.repeat(4) +
    '가나다라마바사아자차카타파하'.repeat(6);
  await page.locator('#content').fill(message);
  await Promise.all([
    page.waitForURL(CONVERSATION_URL, { timeout: 20_000 }),
    page.locator('#composer button[type=submit]:not(.regenerate)').click(),
  ]);
  await page.locator('#messages article.message.assistant.complete').waitFor({ timeout: 20_000 });
  await assertNoSidewaysScroll(page, 'a long Korean message', { nothingSticksOut: true });

  // Renamed to 200 Korean characters (the limit, counted as characters), the title wraps.
  const title = '아주긴한국어제목'.repeat(25);
  await page.locator('details.actions summary').click();
  await page.locator('input[name=title]').fill(title);
  await Promise.all([
    page.waitForURL(CONVERSATION_URL),
    page.getByRole('button', { name: '이름 바꾸기', exact: true }).click(),
  ]);
  await page.locator('h1.chat-title').waitFor();
  assert.equal(await page.locator('h1.chat-title').textContent(), title);
  assert.equal(await page.locator('input[name=title]').getAttribute('maxlength'), '200');
  await assertNoSidewaysScroll(page, 'a 200-character Korean title', { nothingSticksOut: true });
  // Korean breaks between words, not inside one (keep-all).
  assert.equal(await page.locator('.message.user').evaluate((e) => getComputedStyle(e).wordBreak), 'keep-all');
});
