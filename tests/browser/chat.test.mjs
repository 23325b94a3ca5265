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
// Every test starts its own server on a free port with a fresh SQLite file, so the
// tests do not see each other's conversations; each server is killed when its test ends,
// pass or fail. On a failure the page is saved to tests/browser/screenshots-tmp/ and the
// end of the server's log is printed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
// PROMPTSHIP_BIN is taken relative to the working directory, the default to this file.
const BIN = process.env.PROMPTSHIP_BIN
  ? path.resolve(process.env.PROMPTSHIP_BIN)
  : path.resolve(HERE, '../../target/debug/promptship');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SCREENSHOT_DIR = path.join(REPO, 'docs/screenshots');
const FAILURE_DIR = path.join(HERE, 'screenshots-tmp');
const SCREENSHOTS = process.env.SCREENSHOTS === '1';

/** The demo model's answer: about 80 words, 30 ms apart, so about 2.5 s. */
const ANSWER_TIMEOUT = 20_000;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const CONVERSATION_URL = new RegExp(`/conversations/(${UUID})$`);

// ---------------------------------------------------------------------------------------
// The server under test

/** Every server started and not yet stopped, killed if this process dies early. */
const running = new Set();

function killAll() {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAll();
    process.exit(128 + os.constants.signals[signal]);
  });
}

/** A port that was free a moment ago. */
async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts promptship with a fresh database and the demo model and waits until /healthz
 * answers. Returns { url, log(), stop() }.
 */
async function startServer() {
  assert.ok(
    fs.existsSync(BIN),
    `promptship binary not found at ${BIN}: run \`SQLX_OFFLINE=true cargo build\` or set PROMPTSHIP_BIN`,
  );
  let lastError;
  // The free port can be taken between freePort() and the bind: try a few.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptship-browser-'));
    const port = await freePort();
    const env = { ...process.env };
    for (const name of Object.keys(env)) {
      if (name.startsWith('OPENAI_')) delete env[name];
    }
    Object.assign(env, {
      DATABASE_URL: `sqlite://${path.join(dir, 'test.db')}`,
      BIND_ADDR: `127.0.0.1:${port}`,
      // Set but blank: the demo model answers, even if a local .env names a real one
      // (.env never overrides a variable that is set; blank counts as unset).
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
      PROMPTSHIP_SITE: path.join(REPO, 'promptship.toml'),
      SHUTDOWN_GRACE_SECS: '2',
      LOG_FORMAT: 'pretty',
      NO_COLOR: '1',
    });
    const child = spawn(BIN, [], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let output = '';
    const collect = (chunk) => {
      output += chunk;
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);
    let exited = null;
    const exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exited = { code, signal };
        running.delete(child);
        resolve();
      });
      child.once('error', (error) => {
        exited = { error };
        running.delete(child);
        resolve();
      });
    });
    const url = `http://127.0.0.1:${port}`;
    const server = {
      url,
      port,
      log: () => output.replace(/\x1b\[[0-9;]*m/g, ''),
      async stop() {
        if (!exited) {
          child.kill('SIGTERM');
          const killed = await Promise.race([exit.then(() => true), sleep(5_000).then(() => false)]);
          if (!killed) {
            child.kill('SIGKILL');
            await Promise.race([exit, sleep(2_000)]);
          }
        }
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };

    const deadline = Date.now() + 15_000;
    while (!exited && Date.now() < deadline) {
      try {
        const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
        if (response.ok) return server;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    await server.stop();
    lastError = new Error(
      `promptship did not become healthy on ${url} (attempt ${attempt}, ` +
        `${exited ? `exited: ${JSON.stringify(exited)}` : 'timed out after 15 s'}). Log:\n${tail(server.log())}`,
    );
    if (!/address already in use|AddrInUse/i.test(output)) break;
  }
  throw lastError;
}

function tail(text, lines = 40) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------------------
// The browser

let browser;

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: install it or set CHROMIUM_PATH`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
    timeout: 30_000,
  });
});

after(async () => {
  await browser?.close();
  killAll();
});

/**
 * A test with its own server and a helper to open browser contexts; everything is
 * closed at the end, and on a failure the open pages and the server log are saved.
 */
function browserTest(name, options, body) {
  test(name, { timeout: 90_000, ...options }, async (t) => {
    const server = await startServer();
    const contexts = [];
    t.after(async () => {
      for (const context of contexts) await context.close().catch(() => {});
      await server.stop();
    });
    const pageErrors = [];
    const openPage = async (contextOptions = {}) => {
      const context = await browser.newContext({ baseURL: server.url, ...contextOptions });
      context.setDefaultTimeout(10_000);
      context.setDefaultNavigationTimeout(20_000);
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
      return page;
    };
    try {
      await body({ t, server, openPage, pageErrors });
    } catch (error) {
      fs.mkdirSync(FAILURE_DIR, { recursive: true });
      const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 60);
      let n = 0;
      for (const context of contexts) {
        for (const page of context.pages()) {
          const file = path.join(FAILURE_DIR, `${slug}-${++n}`);
          await page.screenshot({ path: `${file}.png`, fullPage: true, timeout: 5_000 }).catch(() => {});
          const html = await page.content().catch(() => '');
          fs.writeFileSync(`${file}.html`, `<!-- ${page.url()} -->\n${html}`);
          t.diagnostic(`page ${n} (${page.url()}) saved to ${file}.{png,html}`);
        }
      }
      // One diagnostic per line: TAP escapes newlines inside one.
      for (const line of pageErrors) t.diagnostic(`page error: ${line}`);
      t.diagnostic('server log (end):');
      for (const line of tail(server.log()).split('\n')) t.diagnostic(`  ${line}`);
      throw error;
    }
  });
}

// ---------------------------------------------------------------------------------------
// Page helpers

/** Waits until htmx and app.js have run, so keys and forms behave as with a person. */
async function waitForScripts(page) {
  await page.waitForFunction(() => typeof window.htmx === 'object' && window.htmx !== null, null, {
    timeout: 10_000,
  });
}

/**
 * Starts sampling the last assistant answer every 10 ms, in the page: its text length
 * while it streams, and whether an <img> or <script> ever appears in #messages.
 */
async function recordStream(page) {
  await page.evaluate(() => {
    clearInterval(window.__streamLog?.timer);
    const log = { samples: [], sawActiveContent: false };
    const sample = () => {
      const messages = document.getElementById('messages');
      if (messages?.querySelector('script, img')) log.sawActiveContent = true;
      const answers = document.querySelectorAll('#messages article.message.assistant');
      const article = answers[answers.length - 1];
      const content = article?.querySelector('.content');
      if (!content) return;
      log.samples.push({
        id: article.id,
        streaming: article.classList.contains('streaming') && content.hasAttribute('data-stream'),
        complete: article.classList.contains('complete'),
        length: content.textContent.length,
      });
    };
    log.timer = setInterval(sample, 10);
    window.__streamLog = log;
  });
}

/**
 * Waits until the conversation shows `answers` assistant messages and the last one is
 * complete, then returns what recordStream() saw.
 */
async function waitForAnswer(page, answers) {
  try {
    await page.waitForFunction(
      (n) => {
        const all = document.querySelectorAll('#messages article.message.assistant');
        return all.length === n && all[n - 1].classList.contains('complete');
      },
      answers,
      { timeout: ANSWER_TIMEOUT, polling: 50 },
    );
  } catch (error) {
    const state = await page
      .evaluate(() =>
        [...document.querySelectorAll('#messages article.message')].map(
          (a) => `${a.id} [${a.className}] ${a.textContent.trim().slice(0, 80)}`,
        ),
      )
      .catch(() => []);
    const notice = await page.locator('#notice').textContent().catch(() => '');
    throw new Error(
      `answer ${answers} did not complete within ${ANSWER_TIMEOUT} ms. Messages now:\n` +
        `${state.join('\n') || '(none)'}\nnotice: ${JSON.stringify(notice)}\n${error.message}`,
    );
  }
  return page.evaluate(() => {
    const log = window.__streamLog;
    if (!log) return null;
    clearInterval(log.timer);
    return { samples: log.samples, sawActiveContent: log.sawActiveContent };
  });
}

/** The distinct non-empty text lengths an answer had while it was streaming. */
function streamingLengths(log) {
  assert.ok(log, 'the stream recorder was lost (did the page reload while streaming?)');
  const lengths = [];
  for (const s of log.samples) {
    if (s.streaming && s.length > 0 && s.length !== lengths[lengths.length - 1]) lengths.push(s.length);
  }
  return lengths;
}

function assertGrowsInSteps(lengths, label) {
  assert.ok(
    lengths.length >= 3,
    `${label}: expected the answer to arrive in at least 3 steps before it was complete, ` +
      `saw text lengths ${JSON.stringify(lengths)}`,
  );
  for (let i = 1; i < lengths.length; i++) {
    assert.ok(
      lengths[i] > lengths[i - 1],
      `${label}: the streaming text shrank from ${lengths[i - 1]} to ${lengths[i]} characters: ${JSON.stringify(lengths)}`,
    );
  }
}

/** Records POSTs the page makes, with whether htmx made them. */
function recordPosts(page) {
  const posts = [];
  page.on('request', (request) => {
    if (request.method() === 'POST') {
      posts.push({ path: new URL(request.url()).pathname, htmx: 'hx-request' in request.headers() });
    }
  });
  return posts;
}

async function conversationLinks(page) {
  return page.locator('nav[aria-label=Conversations] li a').evaluateAll((links) =>
    links.map((a) => ({ href: a.getAttribute('href'), text: a.textContent.trim(), current: a.getAttribute('aria-current') })),
  );
}

function pathOf(page) {
  return new URL(page.url()).pathname;
}

/** With JavaScript off: posts the composer and follows the 303 to the conversation. */
async function sendWithoutJavaScript(page, text) {
  await page.locator('#content').fill(text);
  const posted = page.waitForResponse(
    (r) => r.request().method() === 'POST' && /\/conversations(\/[^/]+\/messages)?$/.test(new URL(r.url()).pathname),
    { timeout: ANSWER_TIMEOUT },
  );
  // The next page load is the redirect's target (the current page has loaded already).
  const loaded = page.waitForEvent('load', { timeout: ANSWER_TIMEOUT });
  await page.locator('#composer').getByRole('button', { name: 'Send', exact: true }).click({ noWaitAfter: true });
  const response = await posted;
  await loaded;
  assert.match(pathOf(page), CONVERSATION_URL, `the form post did not land on a conversation: ${page.url()}`);
  return response;
}

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

  // Regenerate replaces the last answer with a new, streamed one.
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
        return answers.length === 1 && !last.__replaced && !last.classList.contains('streaming');
      },
      null,
      { timeout: ANSWER_TIMEOUT, polling: 50 },
    );
  } catch {
    const state = await page.locator('#messages article.message.assistant').evaluateAll((all) => all.map((a) => a.className));
    const notice = await page.locator('#notice').textContent();
    assert.fail(`the regenerated answer did not finish; answers now: ${JSON.stringify(state)}, notice: ${JSON.stringify(notice)}`);
  }
  const regenerated = await waitForAnswer(page, 1);
  assert.deepEqual(posts.at(-1), { path: `/conversations/${match[1]}/regenerate`, htmx: true });
  assertGrowsInSteps(streamingLengths(regenerated), 'regenerated answer');
  assert.equal(await page.locator('#messages article.message').count(), 2, 'Regenerate should replace the answer, not add one');
  await page.reload();
  assert.equal(
    await page.locator('#messages article.message.assistant.complete').count(),
    1,
    `after a reload the regenerated answer is not complete: ${await page.locator('#messages article.message.assistant').getAttribute('class')}`,
  );
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
      const page = await openPage(options);
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
