// Shared helpers of the real-browser tests (*.test.mjs in this directory): the server
// under test, the browser, and page helpers. Not a test file itself (node --test only
// runs *.test.mjs here).
//
// Importing this module registers a before() hook that launches Chromium and an after()
// hook that closes it, for the importing test file (node --test runs each file in its
// own process).
//
// Environment:
//   PROMPTSHIP_BIN  the binary to test (default: ../../target/debug/promptship)
//   CHROMIUM_PATH   the browser (default: /usr/bin/chromium)
//   SCREENSHOTS=1   chat.test.mjs also (re)writes docs/screenshots/{desktop,phone,dark}.png,
//                   apps.test.mjs docs/screenshots/apps-*.png

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

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '../..');
// PROMPTSHIP_BIN is taken relative to the working directory, the default to this file.
export const BIN = process.env.PROMPTSHIP_BIN
  ? path.resolve(process.env.PROMPTSHIP_BIN)
  : path.resolve(HERE, '../../target/debug/promptship');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(REPO, 'docs/screenshots');
export const FAILURE_DIR = path.join(HERE, 'screenshots-tmp');
export const SCREENSHOTS = process.env.SCREENSHOTS === '1';

/** The demo model's answer: about 80 words, 30 ms apart, so about 2.5 s. */
export const ANSWER_TIMEOUT = 20_000;
export const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
export const CONVERSATION_URL = new RegExp(`/conversations/(${UUID})$`);

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

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts promptship with a fresh database and the demo model and waits until /healthz
 * answers. `extraEnv` overrides the defaults below (e.g. { GUEST_DAILY_MESSAGES: '1' }).
 * Returns { url, port, log(), stop() }.
 */
export async function startServer(extraEnv = {}) {
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
      // Blank, so the built-in defaults apply whatever a local .env says: plain-http
      // cookies, open sign-up, the default allowances and rates.
      ...Object.fromEntries(
        [
          'PUBLIC_URL',
          'TRUSTED_PROXIES',
          'SIGNUP_MODE',
          'GUEST_DAILY_MESSAGES',
          'GUEST_DAILY_TOKENS',
          'USER_DAILY_TOKENS',
          'GLOBAL_DAILY_TOKENS',
          'GLOBAL_DAILY_USD',
          'MESSAGE_RATE_PER_MINUTE',
          'AUTH_RATE_PER_MINUTE',
          'SIGNUPS_PER_HOUR',
          'WRITE_RATE_PER_MINUTE',
          'GUESTS_PER_HOUR',
          'GUEST_MAX_CONVERSATIONS',
        ].map((name) => [name, '']),
      ),
      ...extraEnv,
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

export function tail(text, lines = 40) {
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
 * `options` are node:test's, plus `env`: extra environment for the server.
 */
export function browserTest(name, options, body) {
  const { env, ...testOptions } = options;
  test(name, { timeout: 90_000, ...testOptions }, async (t) => {
    const server = await startServer(env);
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
export async function waitForScripts(page) {
  await page.waitForFunction(() => typeof window.htmx === 'object' && window.htmx !== null, null, {
    timeout: 10_000,
  });
}

/**
 * Starts sampling the last assistant answer every 10 ms, in the page: its text length
 * while it streams, and whether an <img> or <script> ever appears in #messages.
 */
export async function recordStream(page) {
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
export async function waitForAnswer(page, answers) {
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
export function streamingLengths(log) {
  assert.ok(log, 'the stream recorder was lost (did the page reload while streaming?)');
  const lengths = [];
  for (const s of log.samples) {
    if (s.streaming && s.length > 0 && s.length !== lengths[lengths.length - 1]) lengths.push(s.length);
  }
  return lengths;
}

export function assertGrowsInSteps(lengths, label) {
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
export function recordPosts(page) {
  const posts = [];
  page.on('request', (request) => {
    if (request.method() === 'POST') {
      posts.push({ path: new URL(request.url()).pathname, htmx: 'hx-request' in request.headers() });
    }
  });
  return posts;
}

export async function conversationLinks(page) {
  return page.locator('nav[aria-label=Conversations] li a').evaluateAll((links) =>
    links.map((a) => ({ href: a.getAttribute('href'), text: a.textContent.trim(), current: a.getAttribute('aria-current') })),
  );
}

export function pathOf(page) {
  return new URL(page.url()).pathname;
}

/**
 * Asserts the page cannot be scrolled sideways. On a phone (isMobile) Chromium widens the
 * layout viewport to fit content that sticks out, so innerWidth is checked against the
 * screen's width too. With `nothingSticksOut`, no element may reach past the screen's
 * right edge either, even one whose overflow is hidden (long unbroken text clipped away).
 */
export async function assertNoSidewaysScroll(page, when, { nothingSticksOut = false } = {}) {
  const screen = page.viewportSize().width;
  const { scrollWidth, innerWidth, widest } = await page.evaluate((screen) => {
    // The element sticking out furthest to the right, for the message.
    let widest = null;
    for (const element of document.body.querySelectorAll('*')) {
      const right = element.getBoundingClientRect().right;
      if (right > screen + 1 && (!widest || right > widest.right)) {
        widest = { right: Math.round(right), element: `${element.tagName.toLowerCase()}.${[...element.classList].join('.')}` };
      }
    }
    return { scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth, widest };
  }, screen);
  assert.ok(
    scrollWidth <= innerWidth && innerWidth <= screen && !(nothingSticksOut && widest),
    `${when}: wider than the ${screen} px screen (scrollWidth ${scrollWidth}, innerWidth ${innerWidth}); ` +
      `furthest right: ${JSON.stringify(widest)}`,
  );
}

/**
 * With JavaScript off: posts the composer and waits for the next page load (the
 * redirect's target, or an error page). Returns the POST's response.
 */
export async function postWithoutJavaScript(page, text) {
  await page.locator('#content').fill(text);
  const posted = page.waitForResponse(
    (r) => r.request().method() === 'POST' && /\/conversations(\/[^/]+\/messages)?$/.test(new URL(r.url()).pathname),
    { timeout: ANSWER_TIMEOUT },
  );
  // The next page load is the redirect's target (the current page has loaded already).
  const loaded = page.waitForEvent('load', { timeout: ANSWER_TIMEOUT });
  // "Send" in English, "보내기" in Korean: the composer's first button, whatever the language.
  await page.locator('#composer button[type=submit]:not(.regenerate)').click({ noWaitAfter: true });
  const response = await posted;
  await loaded;
  return response;
}

/** With JavaScript off: posts the composer and follows the 303 to the conversation. */
export async function sendWithoutJavaScript(page, text) {
  const response = await postWithoutJavaScript(page, text);
  assert.match(pathOf(page), CONVERSATION_URL, `the form post did not land on a conversation: ${page.url()}`);
  return response;
}
