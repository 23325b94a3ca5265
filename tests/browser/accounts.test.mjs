// Real-browser tests of accounts and the guest allowance: sign-up keeps a guest's
// conversation, log out and log in again, a wrong password, and the message a guest sees
// once the day's allowance is spent (with htmx in #notice, without JavaScript as a page).
//
//   bash tests/browser/run.sh                        (all *.test.mjs here)
//   TEST_FILES=accounts.test.mjs bash tests/browser/run.sh
//
// Helpers, environment and failure diagnostics: see helpers.mjs. Screenshots of the
// allowance notice are written to tests/browser/screenshots-tmp/ (gitignored) for a
// person to look at.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  CONVERSATION_URL,
  FAILURE_DIR,
  browserTest,
  conversationLinks,
  pathOf,
  postWithoutJavaScript,
  sendWithoutJavaScript,
  sleep,
  waitForAnswer,
  waitForScripts,
} from './helpers.mjs';

const PASSWORD = 'correct horse battery staple';
/** What the allowance message must say, whatever the hour: what ran out and when it resets. */
const ALLOWANCE = /guest allowance of 1 messages?\b.*resets at 00:00 UTC, in \d+ (h|min)/s;

// ---------------------------------------------------------------------------------------
// Page helpers for accounts

const accountNav = (page) => page.locator('header.topbar nav.account-nav');
// Links, though "Sign up" is styled as a button (role=button).
const logInLink = (page) => accountNav(page).locator('a[href="/login"]', { hasText: /^\s*Log in\s*$/ });
const signUpLink = (page) => accountNav(page).locator('a[href="/signup"]', { hasText: /^\s*Sign up\s*$/ });

/** Asserts what the header's account area shows: a guest's links, or the user's email. */
async function assertHeader(page, expected, when) {
  const nav = accountNav(page);
  const logIn = logInLink(page);
  const signUp = signUpLink(page);
  const logOut = nav.getByRole('button', { name: 'Log out', exact: true });
  if (expected.guest) {
    assert.ok(await logIn.isVisible(), `${when}: the header has no visible "Log in" link`);
    assert.ok(await signUp.isVisible(), `${when}: the header has no visible "Sign up" link`);
    assert.equal(await logOut.count(), 0, `${when}: a guest's header has a "Log out" button`);
    assert.equal(await nav.locator('.user-email').count(), 0, `${when}: a guest's header shows an email`);
  } else {
    const email = nav.locator('.user-email');
    assert.ok(await email.isVisible(), `${when}: the header does not show the user's email`);
    assert.equal((await email.textContent()).trim(), expected.email, `${when}: the header shows another email`);
    assert.ok(await logOut.isVisible(), `${when}: the header has no visible "Log out" button`);
    assert.equal(await logIn.count(), 0, `${when}: a user's header still has a "Log in" link`);
    assert.equal(await signUp.count(), 0, `${when}: a user's header still has a "Sign up" link`);
  }
}

/** Submits the form of /signup or /login and returns the POST's response. */
async function submitAccountForm(page, button, { email, password }) {
  const form = page.locator('main.account form');
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(password);
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' && /^\/(signup|login)$/.test(new URL(r.url()).pathname));
  const loaded = page.waitForEvent('load');
  await form.getByRole('button', { name: button, exact: true }).click({ noWaitAfter: true });
  const response = await posted;
  await loaded;
  return response;
}

/** The roles of the messages shown, in order, e.g. ['user', 'assistant']. */
async function messageRoles(page) {
  return page.locator('#messages article.message').evaluateAll((all) =>
    all.map((a) => (a.classList.contains('user') ? 'user' : a.classList.contains('assistant') ? 'assistant' : a.className)),
  );
}

async function userTexts(page) {
  return page.locator('#messages article.message.user .content').allTextContents();
}

/** Opens a conversation from the sidebar by its link. */
async function openFromSidebar(page, id) {
  await page.locator(`nav[aria-label=Conversations] a[href="/conversations/${id}"]`).click();
  await page.waitForURL(`**/conversations/${id}`);
  await waitForScripts(page);
}

/**
 * Where #notice is and how it looks, measured in the page: its box, whether the composer
 * or anything else covers it, and the contrast of its text against what is behind it.
 */
async function measureNotice(page) {
  return page.evaluate(() => {
    const notice = document.getElementById('notice');
    const text = notice.querySelector('.error') || notice;
    const box = notice.getBoundingClientRect();
    const composer = document.getElementById('composer').getBoundingClientRect();
    const parse = (color) => {
      const m = color.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const [r, g, b, a = 1] = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    // The first opaque background from the text up; the page's canvas is white or
    // Pico's dark background.
    let background = null;
    for (let el = text; el && !background; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c && c.a > 0.5) background = c;
    }
    background ||= matchMedia('(prefers-color-scheme: dark)').matches ? { r: 19, g: 23, b: 31 } : { r: 255, g: 255, b: 255 };
    const foreground = parse(getComputedStyle(text).color);
    const luminance = ({ r, g, b }) => {
      const lin = (v) => {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    };
    const [hi, lo] = [luminance(foreground), luminance(background)].sort((x, y) => y - x);
    // What is on top at a few points of the text: the notice itself, or something over it.
    const textBox = text.getBoundingClientRect();
    const covered = [];
    for (const fx of [0.02, 0.5, 0.98]) {
      const x = textBox.left + textBox.width * fx;
      const y = textBox.top + textBox.height / 2;
      const top = document.elementFromPoint(x, y);
      if (!top || !notice.contains(top)) covered.push(`${Math.round(x)},${Math.round(y)}: ${top ? top.outerHTML.slice(0, 80) : 'outside the viewport'}`);
    }
    return {
      text: notice.textContent.trim(),
      box: { top: box.top, bottom: box.bottom, height: box.height },
      composerTop: composer.top,
      composerBottom: composer.bottom,
      scrollY: Math.round(scrollY),
      viewportHeight: innerHeight,
      covered,
      contrast: (hi + 0.05) / (lo + 0.05),
      foreground: getComputedStyle(text).color,
      fontSize: parseFloat(getComputedStyle(text).fontSize),
    };
  });
}

/** Why the notice cannot be read where it is, without scrolling (none: it can). */
function placementProblems(measured, when) {
  const problems = [];
  const box = `notice at ${Math.round(measured.box.top)}-${Math.round(measured.box.bottom)} px`;
  if (measured.box.top < 0 || measured.box.bottom > measured.viewportHeight) {
    problems.push(`${when}: #notice is not (wholly) in the window: ${box}, window height ${measured.viewportHeight}`);
  }
  if (measured.box.bottom > measured.composerTop + 1) {
    problems.push(`${when}: #notice is under the composer: ${box}, composer at ${Math.round(measured.composerTop)}-${Math.round(measured.composerBottom)} px`);
  }
  for (const point of measured.covered) problems.push(`${when}: the notice's text is covered at ${point}`);
  return problems;
}

/** The notice's text itself: some height, a readable size, WCAG AA contrast. */
function assertNoticeLegible(measured, when) {
  assert.ok(measured.box.height > 0, `${when}: #notice has no height`);
  assert.ok(
    measured.contrast >= 4.5,
    `${when}: the notice's text (${measured.foreground}) has a contrast of ${measured.contrast.toFixed(2)}:1, below WCAG AA's 4.5:1`,
  );
  assert.ok(measured.fontSize >= 14, `${when}: the notice's text is ${measured.fontSize}px`);
}

// ---------------------------------------------------------------------------------------
// The tests

browserTest(
  'with JavaScript: a guest signs up and keeps the conversation; log out and log in again',
  {},
  async ({ t, openPage, pageErrors }) => {
    const email = `guest-${Date.now().toString(36)}@example.com`;
    const page = await openPage();
    await page.goto('/');
    await waitForScripts(page);
    await assertHeader(page, { guest: true }, 'as a guest');

    // A guest's message, answered in full.
    await page.locator('#content').fill('Hello as a guest');
    await page.locator('#content').press('Enter');
    await waitForAnswer(page, 1);
    await page.waitForURL(CONVERSATION_URL, { timeout: 5_000 });
    const id = pathOf(page).match(CONVERSATION_URL)[1];
    assert.deepEqual(
      (await conversationLinks(page)).map((l) => l.href),
      [`/conversations/${id}`],
      'the guest\'s sidebar does not list the new conversation',
    );

    // Sign up through the header's link.
    await signUpLink(page).click();
    await page.waitForURL('**/signup');
    assert.equal((await page.locator('main.account h1').textContent()).trim(), 'Sign up');
    const signedUp = await submitAccountForm(page, 'Create account', { email, password: PASSWORD });
    assert.equal(signedUp.status(), 303, `POST /signup answered ${signedUp.status()}: ${await page.locator('main').textContent()}`);
    assert.equal(pathOf(page), '/', `sign-up did not land on /: ${page.url()}`);
    await waitForScripts(page);
    await assertHeader(page, { email }, 'after sign-up');
    const afterSignup = await conversationLinks(page);
    assert.deepEqual(
      afterSignup.map((l) => l.href),
      [`/conversations/${id}`],
      `after sign-up the sidebar should still list the guest's conversation: ${JSON.stringify(afterSignup)}`,
    );

    // The kept conversation opens with both messages, and takes another one.
    await openFromSidebar(page, id);
    assert.deepEqual(await messageRoles(page), ['user', 'assistant'], 'the kept conversation does not show its 2 messages');
    assert.deepEqual(await userTexts(page), ['Hello as a guest']);
    assert.equal(await page.locator('#messages article.message.assistant.complete').count(), 1);
    await page.locator('#content').fill('And now as a user');
    await page.locator('#content').press('Enter');
    await waitForAnswer(page, 2);
    assert.deepEqual(await messageRoles(page), ['user', 'assistant', 'user', 'assistant']);
    assert.equal(pathOf(page), `/conversations/${id}`, 'the message as a user went to another conversation');
    assert.equal(await page.locator('#notice').textContent(), '', 'a notice is shown after a successful message');

    // Log out: a guest again, with none of the account's conversations.
    const loggedOut = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/logout');
    const loaded = page.waitForEvent('load');
    await accountNav(page).getByRole('button', { name: 'Log out', exact: true }).click({ noWaitAfter: true });
    assert.equal((await loggedOut).status(), 303, 'POST /logout did not redirect');
    await loaded;
    assert.equal(pathOf(page), '/', `log out did not land on /: ${page.url()}`);
    await assertHeader(page, { guest: true }, 'after log out');
    assert.deepEqual(await conversationLinks(page), [], 'after log out the sidebar still lists conversations');
    assert.equal(
      (await page.locator('nav[aria-label=Conversations] li').allTextContents()).map((s) => s.trim()).join('|'),
      'No conversations yet.',
    );
    const stranger = await page.goto(`/conversations/${id}`);
    assert.equal(stranger.status(), 404, `after log out the account's conversation answered ${stranger.status()}`);
    await page.goto('/');

    // Log in through the header's link: first with a wrong password.
    await logInLink(page).click();
    await page.waitForURL('**/login');
    const wrong = await submitAccountForm(page, 'Log in', { email, password: `${PASSWORD} nope` });
    assert.equal(wrong.status(), 401, `a wrong password answered ${wrong.status()}`);
    assert.equal(pathOf(page), '/login', `a wrong password left the login page: ${page.url()}`);
    const error = page.locator('main.account [role=alert]');
    assert.ok(await error.isVisible(), 'a wrong password shows no visible error');
    assert.equal((await error.textContent()).trim(), 'Wrong email or password.');
    assert.equal(await page.locator('main.account form').getByLabel('Email').inputValue(), email, 'the email was not kept in the form');
    await assertHeader(page, { guest: true }, 'after a wrong password');

    const loggedIn = await submitAccountForm(page, 'Log in', { email, password: PASSWORD });
    assert.equal(loggedIn.status(), 303, `POST /login answered ${loggedIn.status()}`);
    assert.equal(pathOf(page), '/', `log in did not land on /: ${page.url()}`);
    await waitForScripts(page);
    await assertHeader(page, { email }, 'after log in');
    assert.deepEqual(
      (await conversationLinks(page)).map((l) => l.href),
      [`/conversations/${id}`],
      'after log in the sidebar does not list the conversation',
    );
    await openFromSidebar(page, id);
    assert.deepEqual(await messageRoles(page), ['user', 'assistant', 'user', 'assistant'], 'after log in the conversation does not show its 4 messages');
    assert.deepEqual(await userTexts(page), ['Hello as a guest', 'And now as a user']);
    assert.equal(await page.locator('#messages article.message.assistant.complete').count(), 2);
    t.diagnostic(`account ${email} kept conversation ${id}`);
    assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
  },
);

browserTest(
  'with JavaScript: over the guest allowance, the limit is explained in #notice and the conversation stays',
  { env: { GUEST_DAILY_MESSAGES: '1' } },
  async ({ t, openPage, pageErrors }) => {
    const page = await openPage({ viewport: { width: 1280, height: 800 } });
    await page.goto('/');
    await waitForScripts(page);
    await page.locator('#content').fill('My one message for today');
    await page.locator('#content').press('Enter');
    await waitForAnswer(page, 1);
    await page.waitForURL(CONVERSATION_URL, { timeout: 5_000 });
    const conversation = pathOf(page);
    assert.equal(await page.locator('#notice').textContent(), '', 'a notice is shown before the limit');

    // The second message is refused: 429, explained in #notice.
    const second = 'One more, please';
    await page.locator('#content').fill(second);
    const refused = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/messages'));
    await page.locator('#content').press('Enter');
    const response = await refused;
    assert.equal(response.status(), 429, `the second message answered ${response.status()}, expected 429`);
    assert.ok(response.headers()['retry-after'], 'the 429 has no Retry-After header');
    const notice = page.locator('#notice');
    try {
      await notice.filter({ hasText: 'guest allowance' }).waitFor({ state: 'visible', timeout: 5_000 });
    } catch {
      assert.fail(`#notice does not show the allowance message; it says ${JSON.stringify(await notice.textContent())}`);
    }
    const message = (await notice.textContent()).trim();
    t.diagnostic(`notice: ${message}`);
    assert.match(message, ALLOWANCE);
    assert.match(message, /Sign up/);

    // The conversation is still there; the refused text is not lost.
    assert.equal(pathOf(page), conversation);
    assert.deepEqual(await messageRoles(page), ['user', 'assistant'], 'the error replaced or changed the conversation');
    assert.deepEqual(await userTexts(page), ['My one message for today']);
    assert.equal(await page.locator('#messages article.message.assistant.complete').count(), 1);
    assert.equal(await page.locator('#messages .error, #messages [role=alert]').count(), 0, 'the error was put into #messages');
    assert.equal(await page.locator('#content').inputValue(), second, 'the refused message was wiped from the box');
    assert.ok(await page.locator('#composer').getByRole('button', { name: 'Send', exact: true }).isEnabled(), 'Send stays disabled');

    // Readable: in view, above the composer, not covered, enough contrast. Checked in
    // light and dark, wide and narrow, and saved for a person to look at.
    fs.mkdirSync(FAILURE_DIR, { recursive: true });
    const looks = [
      { file: 'guest-limit-desktop.png', viewport: { width: 1280, height: 800 }, colorScheme: 'light' },
      { file: 'guest-limit-desktop-dark.png', viewport: { width: 1280, height: 800 }, colorScheme: 'dark' },
      { file: 'guest-limit-phone.png', viewport: { width: 390, height: 844 }, colorScheme: 'light' },
    ];
    const problems = [];
    for (const { file, viewport, colorScheme } of looks) {
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme });
      await sleep(100); // layout and colours settle
      const when = `${colorScheme} ${viewport.width}x${viewport.height}`;
      const measured = await measureNotice(page);
      await page.screenshot({ path: path.join(FAILURE_DIR, file), animations: 'disabled', caret: 'hide' });
      t.diagnostic(
        `${file}: notice at ${Math.round(measured.box.top)}-${Math.round(measured.box.bottom)} px of ${measured.viewportHeight}, ` +
          `composer at ${Math.round(measured.composerTop)}-${Math.round(measured.composerBottom)}, scrolled ${measured.scrollY} px, ` +
          `contrast ${measured.contrast.toFixed(2)}:1, ${measured.fontSize}px`,
      );
      assertNoticeLegible(measured, when);
      problems.push(...placementProblems(measured, when));
      // What a person sees once they scroll down: the notice itself, for the eye.
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await sleep(100);
      await page.screenshot({ path: path.join(FAILURE_DIR, file.replace('.png', '-scrolled.png')), animations: 'disabled', caret: 'hide' });
      await page.evaluate(() => window.scrollTo(0, 0));
    }
    // The notice docks with the composer at the bottom of the window, so a refusal is seen
    // where the message was typed, however long the conversation.
    await t.test(
      'the notice can be read without scrolling: in the window, not under the composer',
      () => {
        if (problems.length > 0) assert.fail(`the notice cannot be read where it is:\n${problems.join('\n')}`);
      },
    );

    await page.setViewportSize(looks[0].viewport); // the phone layout hides the email
    await page.emulateMedia({ colorScheme: 'light' });

    // A reload shows the conversation as it was: the refused message was not saved.
    await page.reload();
    await waitForScripts(page);
    assert.deepEqual(await messageRoles(page), ['user', 'assistant'], 'after a reload: the refused message was saved');

    // As the notice says: signing up gives a larger allowance, and keeps the conversation.
    await signUpLink(page).click();
    await page.waitForURL('**/signup');
    const email = `limited-${Date.now().toString(36)}@example.com`;
    const signedUp = await submitAccountForm(page, 'Create account', { email, password: PASSWORD });
    assert.equal(signedUp.status(), 303, `POST /signup answered ${signedUp.status()}`);
    await waitForScripts(page);
    await assertHeader(page, { email }, 'after sign-up');
    const id = conversation.match(CONVERSATION_URL)[1];
    await openFromSidebar(page, id);
    await page.locator('#content').fill(second);
    await page.locator('#content').press('Enter');
    await waitForAnswer(page, 2);
    assert.deepEqual(await userTexts(page), ['My one message for today', second], 'after sign-up the message was not sent');
    assert.equal(await page.locator('#notice').textContent(), '', 'after sign-up a notice is still shown');
    assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
  },
);

browserTest(
  'without JavaScript: over the guest allowance, an error page explains the limit',
  { env: { GUEST_DAILY_MESSAGES: '1' } },
  async ({ t, openPage }) => {
    const page = await openPage({ javaScriptEnabled: false });
    await page.goto('/');
    const first = await sendWithoutJavaScript(page, 'My one message for today');
    assert.equal(first.status(), 303);
    const conversation = pathOf(page);
    assert.equal(await page.locator('#messages article.message.assistant.complete').count(), 1);

    const response = await postWithoutJavaScript(page, 'One more, please');
    assert.equal(response.status(), 429, `the second message answered ${response.status()}, expected 429`);
    assert.ok(response.headers()['retry-after'], 'the 429 has no Retry-After header');
    const main = page.locator('main.error-page');
    assert.ok(await main.isVisible(), 'the 429 is not shown as the error page');
    assert.match((await main.locator('h1').textContent()).trim(), /\(429\)$/);
    assert.ok(await main.locator('a[href="/signup"]').isVisible(), 'a guest is offered to sign up');
    const message = (await main.locator('p').first().textContent()).trim();
    t.diagnostic(`error page: ${message}`);
    assert.match(message, ALLOWANCE);
    assert.match(message, /Sign up/);
    await assertHeader(page, { guest: true }, 'on the error page');
    fs.mkdirSync(FAILURE_DIR, { recursive: true });
    await page.screenshot({ path: path.join(FAILURE_DIR, 'guest-limit-no-javascript.png'), animations: 'disabled', caret: 'hide' });

    // The conversation is unchanged.
    await page.goto(conversation);
    assert.deepEqual(await messageRoles(page), ['user', 'assistant'], 'the refused message was saved');
  },
);
