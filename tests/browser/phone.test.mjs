// Phone first: a 360 px screen in both languages and both colour schemes. The header stays
// one line, the menu and the conversation list open without JavaScript, the composer stays
// at the bottom and grows with its text, tap targets are at least 44 px, nothing scrolls
// sideways; and Enter while a Korean IME is composing never sends.

import assert from 'node:assert/strict';
import {
  CONVERSATION_URL,
  assertNoSidewaysScroll,
  browserTest,
  pathOf,
  recordPosts,
  sendWithoutJavaScript,
  waitForScripts,
} from './helpers.mjs';

const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
/** The smallest tap target the issue allows, less a rounding pixel. */
const TAP = 43.5;

/** The header is one line: its height is that of one row of controls. */
async function assertHeaderOneLine(page, when) {
  const { height, brandTop, menuTop } = await page.evaluate(() => {
    const header = document.querySelector('header.topbar').getBoundingClientRect();
    const visible = [...document.querySelectorAll('header.topbar > *')].filter((e) => e.getClientRects().length > 0 && getComputedStyle(e).display !== 'none');
    const tops = visible.map((e) => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2));
    return { height: header.height, brandTop: tops[0], menuTop: tops[tops.length - 1] };
  });
  assert.ok(height <= 60, `${when}: the header is ${height} px high (wrapped?)`);
  assert.ok(Math.abs(brandTop - menuTop) <= 4, `${when}: the header's items are not on one line`);
}

/** Every visible link and button inside `selector` is at least 44 px high and wide. */
async function assertTapTargets(page, selector, when) {
  const small = await page.evaluate(
    ({ selector, tap }) =>
      [...document.querySelectorAll(`${selector} :is(a, button, [role=button], summary)`)]
        .filter((e) => e.getClientRects().length > 0)
        .map((e) => ({ e, r: e.getBoundingClientRect() }))
        .filter(({ r }) => r.height < tap || r.width < tap)
        .map(({ e, r }) => `${e.tagName.toLowerCase()} "${e.textContent.trim().slice(0, 20)}" ${Math.round(r.width)}×${Math.round(r.height)}`),
    { selector, tap: TAP },
  );
  assert.deepEqual(small, [], `${when}: tap targets under 44 px`);
}

for (const colorScheme of ['light', 'dark']) {
  for (const locale of ['en-US', 'ko-KR']) {
    browserTest(`at 360 px (${colorScheme}, ${locale}): one-line header, a menu and a drawer without JavaScript, no sideways scroll`, {}, async ({ openPage }) => {
      const page = await openPage({ ...PHONE, colorScheme, locale, javaScriptEnabled: false });
      for (const path of ['/', '/apps', '/apps/translate', '/login', '/signup']) {
        await page.goto(path);
        await assertHeaderOneLine(page, path);
        await assertNoSidewaysScroll(page, path);
        await assertTapTargets(page, 'header.topbar', path);
      }

      // The menu: hidden until its button is tapped, then every entry a full row.
      await page.goto('/apps');
      const menu = page.locator('#menu');
      assert.equal(await menu.isVisible(), false, 'the menu starts folded');
      await page.locator('a.menu-open').click();
      await menu.waitFor({ state: 'visible' });
      await assertTapTargets(page, '#menu', 'the open menu');
      assert.ok(await menu.getByRole('link', { name: locale === 'ko-KR' ? '로그인' : 'Log in' }).isVisible());
      await page.locator('a.menu-close').click();
      await menu.waitFor({ state: 'hidden' });

      // A conversation with a long Korean message, sent without JavaScript.
      await page.goto('/');
      const long = '긴 한국어 문장이 화면 너비를 넘지 않고 단어 단위로 줄바꿈되는지 확인합니다 '.repeat(6) + 'https://example.com/' + 'a'.repeat(120);
      await sendWithoutJavaScript(page, long);
      const conversation = pathOf(page);
      assert.match(conversation, CONVERSATION_URL);
      await assertHeaderOneLine(page, 'a conversation');
      await assertNoSidewaysScroll(page, 'a conversation with a long message');

      // The conversation list is a drawer.
      const sidebar = page.locator('#sidebar');
      assert.equal(await sidebar.isVisible(), false, 'the list starts closed on a phone');
      await page.locator('a.drawer-open').click();
      await sidebar.waitFor({ state: 'visible' });
      await assertTapTargets(page, '#sidebar', 'the open drawer');
      await sidebar.locator(`a[href="${conversation}"]`).click();
      await page.waitForURL(`**${conversation}`);
      await sidebar.waitFor({ state: 'hidden' });
    });
  }
}

browserTest('at 360 px with JavaScript: the composer stays at the bottom and grows with its text', {}, async ({ openPage }) => {
  // A conversation longer than the screen, made the plain-form way.
  const maker = await openPage({ ...PHONE, javaScriptEnabled: false });
  await maker.goto('/');
  await sendWithoutJavaScript(maker, '안녕하세요\n'.repeat(30).trim());
  const page = await openPage({ ...PHONE, locale: 'ko-KR', storageState: await maker.context().storageState() });
  await page.goto(pathOf(maker));
  await waitForScripts(page);
  await page.evaluate(() => window.scrollTo(0, 0));
  const dock = await page.locator('#composer').boundingBox();
  const height = await page.evaluate(() => window.innerHeight);
  assert.ok(dock.y + dock.height <= height + 1 && dock.y + dock.height >= height - 80,
    `the composer is not docked at the bottom (${Math.round(dock.y)}+${Math.round(dock.height)} of ${height})`);

  const box = page.locator('#content');
  const before = (await box.boundingBox()).height;
  await box.fill('한 줄\n두 줄\n세 줄\n네 줄\n다섯 줄');
  await box.dispatchEvent('input');
  const after = (await box.boundingBox()).height;
  assert.ok(after > before + 20, `the box did not grow with five lines (${before} → ${after} px)`);
  await box.fill('줄\n'.repeat(80));
  await box.dispatchEvent('input');
  const capped = (await box.boundingBox()).height;
  assert.ok(capped <= height / 3 + 2, `the box grew past a third of the screen (${capped} px)`);
  await assertNoSidewaysScroll(page, 'the composer with long text');
});

browserTest('a Korean IME: Enter that ends a composition never sends; the next Enter does', {}, async ({ openPage }) => {
  // A desktop keyboard: on touch screens Enter always adds a line.
  const page = await openPage({ locale: 'ko-KR' });
  const posts = recordPosts(page);
  await page.goto('/');
  await waitForScripts(page);
  const box = page.locator('#content');
  await box.click();
  const cdp = await page.context().newCDPSession(page);
  // Type "안녕" the way an IME does: composing syllables, then Enter commits the last one.
  await cdp.send('Input.insertText', { text: '안' });
  await cdp.send('Input.imeSetComposition', { text: '녀', selectionStart: 1, selectionEnd: 1 });
  await cdp.send('Input.imeSetComposition', { text: '녕', selectionStart: 1, selectionEnd: 1 });
  await page.evaluate(() => {
    document.addEventListener('keydown', (e) => { window.__enter = { key: e.key, isComposing: e.isComposing, keyCode: e.keyCode }; }, { once: true, capture: true });
  });
  await cdp.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 229, nativeVirtualKeyCode: 229 });
  const keydown = await page.evaluate(() => window.__enter);
  assert.equal(keydown?.key, 'Enter', 'the Enter reached the page');
  assert.ok(keydown.isComposing || keydown.keyCode === 229, `the Enter was not seen as composing: ${JSON.stringify(keydown)}`);
  await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 229 });
  await cdp.send('Input.insertText', { text: '녕' });
  await page.waitForTimeout(300);
  assert.equal(posts.length, 0, 'the Enter that ended the composition sent the message');
  assert.equal(await box.inputValue(), '안녕', 'the composition was not committed as typed');

  // With the composition over, Enter sends.
  await page.keyboard.press('Enter');
  await page.waitForURL(CONVERSATION_URL, { timeout: 10_000 });
  assert.equal(posts.length, 1, 'Enter after the composition did not send once');
});
