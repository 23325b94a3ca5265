// Real-browser tests of promptship's pages: Chromium (the system's, driven by
// playwright-core) against the real binary with the built-in demo model.
//
//   cd tests/browser && npm ci && node --test        (or ../../tests/browser/run.sh)
//
// Environment:
//   PROMPTSHIP_BIN  the binary to test (default: ../../target/debug/promptship)
//   CHROMIUM_PATH   the browser (default: /usr/bin/chromium)
//   SCREENSHOTS=1   also (re)write docs/screenshots/{desktop,phone,dark}.png
//
// The server, browser and page helpers are in helpers.mjs, shared with the other
// *.test.mjs files here.
//
// Every test starts its own server on a free port with a fresh SQLite file, so the
// tests do not see each other's conversations; each server is killed when its test ends,
// pass or fail. On a failure the page is saved to tests/browser/screenshots-tmp/ and the
// end of the server's log is printed.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  ANSWER_TIMEOUT,
  CONVERSATION_URL,
  SCREENSHOTS,
  SCREENSHOT_DIR,
  assertGrowsInSteps,
  browserTest,
  conversationLinks,
  pathOf,
  recordPosts,
  recordStream,
  sendWithoutJavaScript,
  sleep,
  streamingLengths,
  waitForAnswer,
  waitForScripts,
} from './helpers.mjs';

// ---------------------------------------------------------------------------------------
// The tests

browserTest('with JavaScript: Enter sends, the answer streams in, the conversation continues', {}, async ({ t, openPage, pageErrors }) => {
  const page = await openPage();
  const posts = recordPosts(page);
  await page.goto('/');
  await waitForScripts(page);

  await assert.doesNotReject(
    page.locator('header.topbar .badge', { hasText: 'demo model' }).waitFor({ state: 'visible', timeout: 5_000 }),
    'the "demo model" badge is not shown',
  );

  // Shift+Enter adds a line and sends nothing.
  const box = page.locator('#content');
  await box.click();
  await page.keyboard.type('Hello from a real browser');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('second line');
  assert.equal(await box.inputValue(), 'Hello from a real browser\nsecond line', 'Shift+Enter did not insert a newline');
  await sleep(300);
  assert.deepEqual(posts, [], 'Shift+Enter sent the message');
  assert.equal(await page.locator('#messages article.message').count(), 0, 'Shift+Enter added a message');
  assert.equal(pathOf(page), '/');

  // Enter sends, through htmx, and the answer arrives in steps.
  await recordStream(page);
  await page.keyboard.press('Enter');
  const log = await waitForAnswer(page, 1);
  assert.deepEqual(posts, [{ path: '/conversations', htmx: true }], 'Enter should make exactly one htmx POST /conversations');
  const steps = streamingLengths(log);
  t.diagnostic(`first answer: ${steps.length} distinct lengths while streaming, ${steps[0]} to ${steps.at(-1)} characters`);
  assertGrowsInSteps(steps, 'first answer');
  assert.equal(await box.inputValue(), '', 'the message box was not emptied once the message was sent');

  // The final answer is the server's Markdown rendering, the stream attribute is gone.
  const answer = page.locator('#messages article.message.assistant.complete');
  assert.equal(await answer.count(), 1);
  await assert.doesNotReject(
    answer.locator('.content strong', { hasText: 'This is the demo model' }).waitFor({ timeout: 2_000 }),
    'the final answer is not rendered Markdown (no <strong>This is the demo model</strong>)',
  );
  assert.equal(await page.locator('#messages [data-stream]').count(), 0, 'data-stream is still set on the complete answer');
  assert.equal(await page.locator('#messages article.streaming').count(), 0);

  // The page now has the conversation's URL, and the composer posts to it.
  const match = pathOf(page).match(CONVERSATION_URL);
  assert.ok(match, `the URL did not become /conversations/<uuid>: ${page.url()}`);
  const id = match[1];
  const messagesUrl = `/conversations/${id}/messages`;
  const composerTarget = () =>
    page.locator('#composer').evaluate((form) => ({
      hxPost: form.getAttribute('hx-post'),
      action: new URL(form.action).pathname,
    }));
  assert.deepEqual(await composerTarget(), { hxPost: messagesUrl, action: messagesUrl }, 'the composer does not post to the new conversation');
  const linksAfterFirst = await conversationLinks(page);
  assert.equal(linksAfterFirst.length, 1, `the sidebar should list the new conversation: ${JSON.stringify(linksAfterFirst)}`);
  assert.equal(linksAfterFirst[0].href, `/conversations/${id}`);

  // A reload shows the saved conversation.
  await page.reload();
  await waitForScripts(page);
  assert.equal(pathOf(page), `/conversations/${id}`);
  const userMessage = page.locator('#messages article.message.user');
  assert.equal(await userMessage.count(), 1, 'after a reload: not exactly one user message');
  assert.equal(await userMessage.locator('.content').textContent(), 'Hello from a real browser\nsecond line');
  assert.equal(await page.locator('#messages article.message.assistant.complete').count(), 1, 'after a reload: no complete answer');
  assert.equal(
    await page.locator('#messages article.message.assistant.complete .content strong', { hasText: 'This is the demo model' }).count(),
    1,
    'after a reload: the answer is not rendered Markdown',
  );
  assert.deepEqual(await composerTarget(), { hxPost: messagesUrl, action: messagesUrl }, 'after a reload: the composer does not post to the conversation');
  assert.equal((await conversationLinks(page))[0]?.current, 'page', 'the open conversation is not marked in the sidebar');

  // A second message goes to the same conversation.
  await recordStream(page);
  await box.fill('And a second question');
  await box.press('Enter');
  const secondLog = await waitForAnswer(page, 2);
  assertGrowsInSteps(streamingLengths(secondLog), 'second answer');
  assert.equal(posts.length, 2);
  assert.deepEqual(posts[1], { path: messagesUrl, htmx: true }, 'the second message was not posted to the conversation');
  assert.equal(await page.locator('#messages article.message').count(), 4, 'the conversation should show 4 messages');
  const roles = await page.locator('#messages article.message').evaluateAll((all) =>
    all.map((a) => (a.classList.contains('user') ? 'user' : a.classList.contains('assistant') ? 'assistant' : a.className)),
  );
  assert.deepEqual(roles, ['user', 'assistant', 'user', 'assistant']);
  assert.match(
    await page.locator('#messages article.message.assistant').last().textContent(),
    /This conversation has 2 message\(s\) from you/,
    'the second answer does not see the first message',
  );
  assert.equal(pathOf(page), `/conversations/${id}`);
  const links = await conversationLinks(page);
  assert.equal(links.length, 1, `the sidebar should still list one conversation: ${JSON.stringify(links)}`);

  await page.reload();
  assert.equal(await page.locator('#messages article.message').count(), 4, 'after a reload: not 4 messages');
  assert.equal(await page.locator('#messages article.message.assistant.complete').count(), 2);
  assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
});

browserTest('HTML in a message and in the answer is shown as text, never run', {}, async ({ openPage, pageErrors }) => {
  const payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
  const page = await openPage();
  await page.goto('/');
  await waitForScripts(page);

  await recordStream(page);
  await page.locator('#content').fill(`Please repeat: ${payload}`);
  await page.locator('#content').press('Enter');
  const log = await waitForAnswer(page, 1);
  await page.waitForURL(CONVERSATION_URL, { timeout: 5_000 });

  const check = async (when) => {
    await sleep(300); // time for an image error handler to fire, if there were one
    assert.equal(await page.evaluate(() => typeof window.__xss), 'undefined', `${when}: the payload ran`);
    assert.equal(await page.locator('#messages script').count(), 0, `${when}: a <script> element is in #messages`);
    assert.equal(await page.locator('#messages img').count(), 0, `${when}: an <img> element is in #messages`);
    assert.equal(
      await page.locator('#messages article.message.user .content').textContent(),
      `Please repeat: ${payload}`,
      `${when}: the user message is not shown as the text that was typed`,
    );
    // The demo model quotes the question: the answer shows the payload as text too.
    const answer = await page.locator('#messages article.message.assistant.complete .content').textContent();
    assert.ok(answer.includes('Please repeat:'), `${when}: the answer does not quote the question: ${answer}`);
  };
  assert.equal(log?.sawActiveContent, false, 'an <img> or <script> appeared in #messages while the answer streamed');
  await check('after the answer');
  await page.reload();
  await check('after a reload');
  assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
});

browserTest('without JavaScript: the form waits for the answer and redirects; rename works', {}, async ({ openPage }) => {
  const page = await openPage({ javaScriptEnabled: false });
  await page.goto('/');
  assert.equal(await page.locator('header.topbar .badge').textContent(), 'demo model');

  const started = Date.now();
  const response = await sendWithoutJavaScript(page, 'Hello without JavaScript');
  assert.equal(response.status(), 303, `POST /conversations answered ${response.status()}, expected a 303 redirect`);
  const match = pathOf(page).match(CONVERSATION_URL);
  assert.ok(match, `not redirected to /conversations/<uuid>: ${page.url()}`);
  assert.equal(new URL(response.headers().location, page.url()).pathname, pathOf(page));
  assert.ok(Date.now() - started > 1_000, 'the redirect came before the demo answer could have finished');

  assert.equal(await page.locator('#messages article.message.user .content').textContent(), 'Hello without JavaScript');
  const answer = page.locator('#messages article.message.assistant.complete');
  assert.equal(await answer.count(), 1, 'the answer is not complete when the redirect lands');
  assert.equal(await answer.locator('.content strong', { hasText: 'This is the demo model' }).count(), 1);
  assert.equal(await page.locator('#messages [data-stream]').count(), 0);

  // A second message in the same conversation, still without JavaScript.
  const second = await sendWithoutJavaScript(page, 'A second one');
  assert.equal(second.status(), 303);
  assert.equal(new URL(second.url()).pathname, `/conversations/${match[1]}/messages`);
  assert.equal(pathOf(page), `/conversations/${match[1]}`);
  assert.equal(await page.locator('#messages article.message').count(), 4);
  assert.equal(await page.locator('#messages article.message.assistant.complete').count(), 2);

  // Rename through the "Manage" panel.
  const title = 'Renamed without JS';
  await page.locator('details.actions summary', { hasText: 'Manage' }).click();
  await page.getByLabel('New title').fill(title);
  const renamed = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/rename'));
  const reloaded = page.waitForEvent('load');
  await page.getByRole('button', { name: 'Rename' }).click({ noWaitAfter: true });
  assert.equal((await renamed).status(), 303, 'rename did not redirect');
  await reloaded;
  assert.equal(pathOf(page), `/conversations/${match[1]}`);
  assert.equal((await page.locator('h1.chat-title').textContent()).trim(), title);
  assert.equal((await conversationLinks(page))[0]?.text, title, 'the sidebar does not show the new title');
  assert.ok((await page.title()).startsWith(title), `the page title is ${JSON.stringify(await page.title())}`);
});

browserTest('with JavaScript: a suggestion streams like a typed message; Regenerate streams a new answer', {}, async ({ openPage, pageErrors }) => {
  const page = await openPage();
  const posts = recordPosts(page);
  await page.goto('/');
  await waitForScripts(page);

  const suggestion = page.locator('#messages .suggestions button').first();
  const question = await suggestion.getAttribute('value');
  assert.ok(question, 'the landing page shows no suggestions');
  await recordStream(page);
  await suggestion.click();
  const log = await waitForAnswer(page, 1);
  assert.deepEqual(posts, [{ path: '/conversations', htmx: true }], 'a suggestion should make one htmx POST /conversations');
  assertGrowsInSteps(streamingLengths(log), 'answer to a suggestion');
  const match = pathOf(page).match(CONVERSATION_URL);
  assert.ok(match, `the URL did not become /conversations/<uuid>: ${page.url()}`);
  assert.equal(await page.locator('#messages article.message.user .content').textContent(), question);

  // Regenerate streams a new answer and keeps the earlier one, folded away before it.
  await page.reload();
  await waitForScripts(page);
  const regenerate = page.getByRole('button', { name: 'Regenerate' });
  assert.equal(await regenerate.count(), 1, 'a conversation with an answer has no Regenerate button');
  await page.locator('#messages article.message.assistant.complete').evaluate((old) => {
    old.__replaced = true;
  });
  await recordStream(page);
  await regenerate.click();
  try {
    await page.waitForFunction(
      () => {
        const answers = document.querySelectorAll('#messages article.message.assistant');
        const last = answers[answers.length - 1];
        return answers.length === 2 && !last.__replaced && !last.classList.contains('streaming');
      },
      null,
      { timeout: ANSWER_TIMEOUT, polling: 50 },
    );
  } catch {
    const state = await page.locator('#messages article.message.assistant').evaluateAll((all) => all.map((a) => a.className));
    const notice = await page.locator('#notice').textContent();
    assert.fail(`the regenerated answer did not finish; answers now: ${JSON.stringify(state)}, notice: ${JSON.stringify(notice)}`);
  }
  const regenerated = await waitForAnswer(page, 2);
  assert.deepEqual(posts.at(-1), { path: `/conversations/${match[1]}/regenerate`, htmx: true });
  assertGrowsInSteps(streamingLengths(regenerated), 'regenerated answer');
  assert.equal(await page.locator('#messages > article.message').count(), 2, 'the question and the new answer are shown');
  assert.equal(
    await page.locator('#messages details.alternatives article.message.assistant').count(),
    1,
    'the earlier answer is kept, folded away',
  );
  await page.reload();
  assert.equal(
    await page.locator('#messages > article.message.assistant.complete').count(),
    1,
    `after a reload the regenerated answer is not complete: ${await page.locator('#messages > article.message.assistant').getAttribute('class')}`,
  );
  assert.equal(await page.locator('#messages details.alternatives > summary').textContent(), '1 other answer to this question');
  assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
});

browserTest(
  'screenshots for the docs (desktop, phone, dark)',
  { skip: SCREENSHOTS ? false : 'set SCREENSHOTS=1 to write docs/screenshots/*.png' },
  async ({ openPage }) => {
    // One conversation, made the plain-form way (no timing in the way of a clean page).
    const maker = await openPage({ javaScriptEnabled: false });
    await maker.goto('/');
    await sendWithoutJavaScript(maker, 'What makes a good README?');
    const conversation = pathOf(maker);
    assert.match(conversation, CONVERSATION_URL);
    // The conversation belongs to this guest session: every shot opens it with its cookie.
    const storageState = await maker.context().storageState();

    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const shots = [
      { file: 'desktop.png', options: { viewport: { width: 1280, height: 800 }, colorScheme: 'light' } },
      {
        file: 'phone.png',
        options: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, colorScheme: 'light' },
      },
      { file: 'dark.png', options: { viewport: { width: 1280, height: 800 }, colorScheme: 'dark' } },
    ];
    for (const { file, options } of shots) {
      const page = await openPage({ ...options, storageState });
      await page.goto(conversation);
      await waitForScripts(page);
      await page.locator('#messages article.message.assistant.complete').waitFor();
      await page.evaluate(() => document.fonts.ready);
      const target = path.join(SCREENSHOT_DIR, file);
      await page.screenshot({ path: target, animations: 'disabled', caret: 'hide' });
      assert.ok(fs.statSync(target).size > 10_000, `${file} looks empty`);
    }
  },
);
