// Real-browser tests of the prompt apps' pages: the gallery, a form filled and run with
// JavaScript (a text result streaming in, then "Continue in chat"), a structured result
// and its "Copy JSON", an image result, the form without JavaScript (a run, and a field's
// error), and a phone's width.
//
//   TEST_FILES=apps.test.mjs bash tests/browser/run.sh
//
// The shipped apps/*.prompt are the apps under test, answered by the built-in demo model:
// text apps with its canned answer quoting the question, JSON apps with a deterministic
// answer valid against their schema, image apps with a deterministic PNG.
// SCREENSHOTS=1 also (re)writes docs/screenshots/apps-*.png for the README; install
// fonts-noto-cjk and fonts-noto-color-emoji first, or the Korean titles and the apps'
// icons come out as boxes.
// Helpers, environment and failure diagnostics: see helpers.mjs.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  ANSWER_TIMEOUT,
  CONVERSATION_URL,
  SCREENSHOTS,
  SCREENSHOT_DIR,
  UUID,
  assertGrowsInSteps,
  assertNoSidewaysScroll,
  browserTest,
  pathOf,
  recordPosts,
  waitForScripts,
} from './helpers.mjs';

/** The shipped apps, as the gallery orders them (by name). */
const APPS = ['extract', 'image', 'interview', 'summarize', 'translate'];
const runUrl = (app) => new RegExp(`^/apps/${app}/runs/(${UUID})$`);
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const DESKTOP = { viewport: { width: 1280, height: 800 }, colorScheme: 'light' };

// ---------------------------------------------------------------------------------------
// Page helpers for apps

/** The finished result under the form (complete, failed or invalid). */
const finishedResult = (page) => page.locator('#result article.run:not([data-status=streaming])');

/** Waits until the result under the form is finished and asserts it is complete. */
async function waitForResult(page, when) {
  try {
    await finishedResult(page).waitFor({ timeout: ANSWER_TIMEOUT });
  } catch (error) {
    const result = await page.locator('#result').innerHTML().catch(() => '');
    const notice = await page.locator('#notice').textContent().catch(() => '');
    throw new Error(
      `${when}: the result did not finish within ${ANSWER_TIMEOUT} ms. #result now:\n${result.slice(0, 600)}\n` +
        `notice: ${JSON.stringify(notice)}\n${error.message}`,
    );
  }
  const result = finishedResult(page);
  const status = await result.getAttribute('data-status');
  const error = await result.locator('.error').allTextContents();
  assert.equal(status, 'complete', `${when}: the run ended ${status}: ${error.join(' ')}`);
  return result;
}

/**
 * Starts sampling the result under the form every 10 ms, in the page: the length of the
 * streaming element's text, whether it is still streaming, and the page's path then.
 */
async function recordResult(page) {
  await page.evaluate(() => {
    clearInterval(window.__resultLog?.timer);
    const log = { samples: [] };
    log.timer = setInterval(() => {
      const run = document.querySelector('#result article.run');
      if (!run) return;
      const stream = run.querySelector('[data-stream]');
      log.samples.push({
        streaming: run.dataset.status === 'streaming' && stream !== null,
        length: (stream ?? run).textContent.length,
        path: location.pathname,
      });
    }, 10);
    window.__resultLog = log;
  });
}

async function stopRecording(page) {
  return page.evaluate(() => {
    const log = window.__resultLog;
    clearInterval(log?.timer);
    return log?.samples ?? null;
  });
}

/** Submits an app's form with the Run button and returns the POST's response. */
async function run(page, app) {
  const posted = page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/apps/${app}/runs`,
    { timeout: ANSWER_TIMEOUT },
  );
  await page.locator('#app-form').getByRole('button', { name: 'Run', exact: true }).click({ noWaitAfter: true });
  return posted;
}

/** Without JavaScript: submits the form, waits for the page it lands on, returns the POST's response. */
async function runWithoutJavaScript(page, app) {
  const loaded = page.waitForEvent('load', { timeout: ANSWER_TIMEOUT });
  const response = await run(page, app);
  await loaded;
  return response;
}

/** Opens an app's page and fills the form with the app's sample by its link. */
async function openWithSample(page, app) {
  await page.goto(`/apps/${app}`);
  await page.getByRole('link', { name: 'Fill with the sample', exact: true }).click();
  await page.waitForURL(`**/apps/${app}?sample`);
}

/** Asserts an element is shown and fits the screen's width. */
async function assertFitsWidth(page, locator, what) {
  assert.ok(await locator.isVisible(), `${what} is not visible`);
  const box = await locator.boundingBox();
  const width = page.viewportSize().width;
  assert.ok(box.x >= 0 && box.x + box.width <= width + 1, `${what} does not fit the ${width} px screen: ${JSON.stringify(box)}`);
}

// ---------------------------------------------------------------------------------------
// The tests

browserTest('the gallery shows every app as a card, and a card opens its app', {}, async ({ openPage, pageErrors }) => {
  const page = await openPage(DESKTOP);
  await page.goto('/');
  await page.locator('header.topbar nav').getByRole('link', { name: 'Apps', exact: true }).click();
  await page.waitForURL('**/apps');
  assert.equal(await page.locator('main.apps h1').textContent(), 'Apps');

  const cards = await page.locator('main.apps ul.cards > li > a.card').evaluateAll((links) =>
    links.map((a) => ({
      href: a.getAttribute('href'),
      title: a.querySelector('strong')?.textContent.trim(),
      description: a.querySelector('.description')?.textContent.trim(),
      format: a.querySelector('.badge')?.textContent.trim(),
    })),
  );
  assert.deepEqual(
    cards.map((c) => c.href),
    APPS.map((name) => `/apps/${name}`),
    `the gallery's cards: ${JSON.stringify(cards)}`,
  );
  for (const card of cards) {
    assert.ok(card.title && card.description, `a card without a title or description: ${JSON.stringify(card)}`);
  }
  assert.deepEqual(
    Object.fromEntries(cards.map((c) => [c.href.slice('/apps/'.length), c.format])),
    { extract: 'json', image: 'image', interview: 'json', summarize: 'json', translate: 'text' },
  );

  // The whole card is the link.
  const translate = page.locator('a.card[href="/apps/translate"]');
  await translate.locator('.description').click();
  await page.waitForURL('**/apps/translate');
  assert.equal(await page.locator('main.app-page h1').textContent().then((t) => t.trim()), `🌏 ${cards.at(-1).title}`);
  assert.equal(await page.locator('#app-form').getAttribute('action'), '/apps/translate/runs');
  assert.equal(await page.locator('#app-form').getAttribute('hx-post'), '/apps/translate/runs');
  // The form is the one the schema asks for: a textarea, two selects, a list one per line.
  assert.equal(await page.getByLabel('Text').evaluate((e) => e.tagName), 'TEXTAREA');
  // (A field with a default also offers a blank choice, which means the default.)
  const choices = (select) => page.locator(`${select} option:not([value=""])`).allTextContents();
  assert.deepEqual(await choices('#field-direction'), ['ko-en', 'en-ko']);
  assert.deepEqual(await choices('#field-tone'), ['formal', 'polite', 'casual']);
  assert.equal(await page.locator('#field-tone').inputValue(), 'polite', 'the default tone is not selected');
  assert.equal(await page.locator('#field-keep').evaluate((e) => e.tagName), 'TEXTAREA');
  assert.equal(await page.locator('#result article').count(), 0, 'a fresh app page shows a result');
  assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
});

browserTest('with JavaScript: a refused form says why; a text app streams its result, gets the run URL, and continues in chat', {}, async ({ t, openPage, pageErrors }) => {
  const page = await openPage(DESKTOP);
  const posts = recordPosts(page);
  await page.goto('/apps/translate');
  await waitForScripts(page);

  // Only spaces in the required text: refused above the result, nothing run, the URL kept.
  await page.getByLabel('Text').fill('   ');
  const refused = await run(page, 'translate');
  assert.equal(refused.status(), 422);
  await assert.doesNotReject(
    page.locator('#notice .error', { hasText: '`text` is required' }).waitFor({ timeout: 5_000 }),
    `the refusal is not shown in #notice: ${JSON.stringify(await page.locator('#notice').textContent())}`,
  );
  assert.equal(await page.locator('#result article').count(), 0, 'a refused form shows a result');
  assert.equal(pathOf(page), '/apps/translate');

  const text = 'Good morning, everyone. The talk starts at ten.';
  await page.getByLabel('Text').fill(text);
  await page.locator('#field-direction').selectOption('en-ko');
  await page.locator('#field-tone').selectOption('casual');
  await page.locator('#field-keep').fill('promptship\nSeoul');

  await recordResult(page);
  const response = await run(page, 'translate');
  assert.match(response.headers()['content-type'] ?? '', /^text\/event-stream/, 'the htmx POST was not answered with a stream');
  const result = await waitForResult(page, 'translate');
  const samples = await stopRecording(page);
  assert.deepEqual(posts, Array(2).fill({ path: '/apps/translate/runs', htmx: true }), 'each Run should make exactly one htmx POST');
  assert.equal(await page.locator('#notice').textContent(), '', 'the refusal was not cleared by the run');

  // The text arrived in steps, and the page had the run's URL while it streamed.
  const lengths = [];
  for (const s of samples) {
    if (s.streaming && s.length > 0 && s.length !== lengths.at(-1)) lengths.push(s.length);
  }
  t.diagnostic(`${lengths.length} distinct lengths while streaming, ${lengths[0]} to ${lengths.at(-1)} characters`);
  assertGrowsInSteps(lengths, 'the translation');
  const streamingPaths = new Set(samples.filter((s) => s.streaming && s.length > 0).map((s) => s.path));
  assert.equal(streamingPaths.size, 1, `the path changed while the text streamed: ${[...streamingPaths]}`);
  const [streamingPath] = streamingPaths;
  const match = streamingPath.match(runUrl('translate'));
  assert.ok(match, `while streaming, the URL was not /apps/translate/runs/<uuid>: ${streamingPath}`);
  const id = match[1];
  assert.equal(pathOf(page), streamingPath);

  // The final result is the server's Markdown, quoting what was typed.
  assert.equal(await page.locator('#result [data-stream]').count(), 0, 'data-stream is still set on the finished result');
  assert.equal(await result.locator('.content.markdown strong', { hasText: 'This is the demo model' }).count(), 1, 'the result is not the rendered demo answer');
  assert.equal((await result.locator('.content blockquote').textContent()).trim(), text, 'the answer does not quote the text typed');
  assert.match(await result.locator('footer .meta').textContent(), /promptship-demo · \d+ tokens/);
  // The form stays, ready for another run.
  assert.equal(await page.getByLabel('Text').inputValue(), text);
  assert.ok(await page.locator('#app-form button[type=submit]').isEnabled(), 'the Run button stayed disabled');

  // The run's URL is a page of its own: the form filled with the run's input, and the result.
  await page.reload();
  assert.equal(await page.getByLabel('Text').inputValue(), text, 'the run page does not show the input');
  assert.equal(await page.locator('#field-direction').inputValue(), 'en-ko', 'the run page lost the direction picked');
  assert.equal(await page.locator('#field-tone').inputValue(), 'casual', 'the run page lost the tone picked');
  assert.equal(await page.locator('#field-keep').inputValue(), 'promptship\nSeoul');
  assert.equal(await finishedResult(page).locator('.content strong', { hasText: 'This is the demo model' }).count(), 1);

  // "Continue in chat" opens the run as a conversation, with the answer.
  await finishedResult(page).getByRole('link', { name: 'Continue in chat', exact: true }).click();
  await page.waitForURL(CONVERSATION_URL);
  assert.equal(pathOf(page), `/conversations/${id}`);
  const answer = page.locator('#messages article.message.assistant.complete');
  assert.equal(await answer.count(), 1, 'the conversation does not show the complete answer');
  assert.equal(await answer.locator('.content strong', { hasText: 'This is the demo model' }).count(), 1);
  assert.ok((await page.locator('#messages article.message.user').last().textContent()).includes(text), 'the conversation does not show the question');
  assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
});

browserTest('a structured result: the sample runs into a table, and "Copy JSON" copies the JSON', {}, async ({ openPage, pageErrors }) => {
  const page = await openPage({ ...DESKTOP, permissions: ['clipboard-read', 'clipboard-write'] });
  await openWithSample(page, 'extract');
  await waitForScripts(page);
  assert.equal(await page.locator('#field-kind').inputValue(), 'event', 'the sample did not pick its kind');
  assert.equal(await page.locator('#field-fields').inputValue(), 'title\ndate\nstart time\nplace\norganizer email');
  assert.match(await page.getByLabel('Text').inputValue(), /spring study group/);

  await run(page, 'extract');
  const result = await waitForResult(page, 'extract');
  assert.match(pathOf(page), runUrl('extract'));

  // The object is a definition list, its list of objects a table.
  const structured = result.locator('.content.structured');
  assert.equal(await structured.locator('dl > dt').first().textContent(), 'Fields');
  const table = structured.locator('table');
  assert.equal(await table.count(), 1, 'the list of fields is not a table');
  assert.deepEqual(await table.locator('thead th').allTextContents(), ['Name', 'Value', 'Found']);
  const rows = await table.locator('tbody tr').count();
  assert.ok(rows >= 1, 'the table has no rows');

  // The JSON is behind its summary; "Copy JSON" is shown (JavaScript and a clipboard) and copies it.
  const details = result.locator('details.json');
  await details.locator('summary').click();
  const copy = details.getByRole('button', { name: 'Copy JSON', exact: true });
  assert.ok(await copy.isVisible(), 'the "Copy JSON" button is not shown');
  const shown = JSON.parse(await details.locator('pre code').textContent());
  await copy.click();
  await assert.doesNotReject(
    details.getByRole('button', { name: 'Copied', exact: true }).waitFor({ timeout: 2_000 }),
    'the button did not say "Copied"',
  );
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  let value;
  assert.doesNotThrow(() => {
    value = JSON.parse(copied);
  }, `the clipboard does not hold JSON: ${copied.slice(0, 200)}`);
  assert.deepEqual(value, shown, 'the clipboard does not hold the JSON shown');
  assert.ok(Array.isArray(value.fields) && value.fields.length === rows, `the JSON's fields do not match the table's ${rows} rows`);
  for (const field of value.fields) {
    assert.deepEqual(Object.keys(field).sort(), ['found', 'name', 'value']);
  }
  // The label comes back.
  await assert.doesNotReject(copy.waitFor({ timeout: 3_000 }), 'the button kept saying "Copied"');
  assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
});

browserTest('an image app shows the picture it made, loaded from this server', {}, async ({ openPage, pageErrors }) => {
  const page = await openPage(DESKTOP);
  await openWithSample(page, 'image');
  await waitForScripts(page);
  assert.equal(await page.locator('#field-style').inputValue(), 'watercolor');
  assert.ok(await page.getByLabel('No text', { exact: true }).isChecked(), 'the sample did not check no_text');

  const images = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/images/')) images.push({ status: r.status(), type: r.headers()['content-type'] });
  });
  await run(page, 'image');
  const result = await waitForResult(page, 'image');
  assert.match(pathOf(page), runUrl('image'));
  const img = result.locator('figure.picture img');
  assert.equal(await img.count(), 1, 'the result has no <img>');
  assert.match(await img.getAttribute('src'), /^\/images\/[0-9a-f]{64}$/);
  const loaded = await img.evaluate(
    (el) =>
      new Promise((resolve) => {
        const done = () => resolve({ complete: el.complete, width: el.naturalWidth, height: el.naturalHeight });
        if (el.complete) done();
        else {
          el.addEventListener('load', done, { once: true });
          el.addEventListener('error', done, { once: true });
        }
      }),
  );
  assert.ok(loaded.width > 0 && loaded.height > 0, `the picture did not load: ${JSON.stringify(loaded)}`);
  assert.deepEqual(images, [{ status: 200, type: 'image/png' }], 'the picture was not served once as a PNG');
  assert.ok(await img.isVisible());
  assert.equal(await result.locator('figcaption a[download]').getAttribute('href'), await img.getAttribute('src'));

  // The run page shows the same picture.
  await page.reload();
  const again = finishedResult(page).locator('figure.picture img');
  await again.waitFor();
  assert.ok(await again.evaluate((el) => el.complete && el.naturalWidth > 0), 'after a reload the picture did not load');
  assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
});

browserTest('without JavaScript: the form runs and redirects to the result; a missing field comes back with its message', {}, async ({ openPage }) => {
  const page = await openPage({ ...DESKTOP, javaScriptEnabled: false });
  await page.goto('/apps/translate');

  const text = 'Thank you for coming today.';
  await page.getByLabel('Text').fill(text);
  await page.locator('#field-direction').selectOption('en-ko');
  await page.locator('#field-tone').selectOption('formal');
  const started = Date.now();
  const response = await runWithoutJavaScript(page, 'translate');
  assert.equal(response.status(), 303, `the POST answered ${response.status()}, expected a 303 redirect`);
  assert.ok(Date.now() - started > 1_000, 'the redirect came before the demo answer could have finished');
  const match = pathOf(page).match(runUrl('translate'));
  assert.ok(match, `not redirected to /apps/translate/runs/<uuid>: ${page.url()}`);
  assert.equal(new URL(response.headers().location, page.url()).pathname, pathOf(page));
  const result = finishedResult(page);
  assert.equal(await result.getAttribute('data-status'), 'complete', 'the result is not complete when the redirect lands');
  assert.equal(await result.locator('.content strong', { hasText: 'This is the demo model' }).count(), 1);
  assert.equal((await result.locator('.content blockquote').textContent()).trim(), text);
  assert.equal(await page.getByLabel('Text').inputValue(), text, 'the run page does not show the input');
  assert.equal(await page.locator('#field-tone').inputValue(), 'formal');
  // Without JavaScript there is no clipboard button to show; a text result has none anyway.
  assert.equal(await result.getByRole('link', { name: 'Continue in chat' }).getAttribute('href'), `/conversations/${match[1]}`);

  // Only spaces in a required field: the browser lets it through, the server refuses it
  // next to the field, and keeps everything else that was typed.
  await page.goto('/apps/translate');
  await page.getByLabel('Text').fill('   ');
  await page.locator('#field-direction').selectOption('en-ko');
  await page.locator('#field-tone').selectOption('casual');
  await page.locator('#field-keep').fill('promptship\nSeoul');
  const refused = await runWithoutJavaScript(page, 'translate');
  assert.equal(refused.status(), 422, `a missing field answered ${refused.status()}, expected 422`);
  assert.equal(pathOf(page), '/apps/translate/runs', 'the refused form should be the POST\'s own page');
  const field = page.locator('.field', { has: page.locator('#field-text') });
  const error = field.locator('#error-text.error');
  assert.equal(await error.count(), 1, 'no error message next to the text field');
  assert.equal((await error.textContent()).trim(), 'is required');
  assert.ok(await error.isVisible());
  assert.equal(await page.locator('#field-text').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.locator('#field-text').getAttribute('aria-describedby'), 'error-text');
  assert.equal(await page.locator('#app-form .error').count(), 1, 'more than the one field was marked wrong');
  assert.equal(await page.locator('#field-direction').inputValue(), 'en-ko', 'the direction was not kept');
  assert.equal(await page.locator('#field-tone').inputValue(), 'casual', 'the tone was not kept');
  assert.equal(await page.locator('#field-keep').inputValue(), 'promptship\nSeoul', 'the list was not kept');
  assert.equal(await page.locator('#result article').count(), 0, 'a refused form shows a result');

  // Put right, the same form runs.
  await page.getByLabel('Text').fill('Now with words.');
  const fixed = await runWithoutJavaScript(page, 'translate');
  assert.equal(fixed.status(), 303);
  assert.match(pathOf(page), runUrl('translate'));
  assert.equal(await page.locator('#field-keep').inputValue(), 'promptship\nSeoul');
  assert.equal(await finishedResult(page).getAttribute('data-status'), 'complete');
});

browserTest('at phone width (360 px): the gallery and an app page fit, the form runs and the result fits', {}, async ({ openPage, pageErrors }) => {
  const page = await openPage(PHONE);
  await page.goto('/apps');
  await assertNoSidewaysScroll(page, 'the gallery');
  for (const card of await page.locator('a.card').all()) {
    await card.scrollIntoViewIfNeeded();
    await assertFitsWidth(page, card, `the card ${await card.getAttribute('href')}`);
  }

  // The app with the widest result: a table of questions and answers.
  await openWithSample(page, 'interview');
  await waitForScripts(page);
  await assertNoSidewaysScroll(page, 'the interview form');
  for (const box of ['#field-posting', '#field-project', '#field-level', '#field-count', '#field-topics']) {
    await assertFitsWidth(page, page.locator(box), box);
  }
  const button = page.locator('#app-form').getByRole('button', { name: 'Run', exact: true });
  await button.scrollIntoViewIfNeeded();
  await assertFitsWidth(page, button, 'the Run button');

  await button.tap();
  const result = await waitForResult(page, 'interview at phone width');
  assert.match(pathOf(page), runUrl('interview'));
  const table = result.locator('.content.structured table').first();
  assert.equal(await table.count(), 1, 'the result has no table');
  await assertNoSidewaysScroll(page, 'the interview result');
  // Every column is in view: none hidden behind the result's own sideways scroll.
  const overhang = await table.evaluate((el) => {
    const box = el.closest('.structured').getBoundingClientRect();
    return Math.round(el.getBoundingClientRect().right - box.right);
  });
  assert.ok(overhang <= 1, `the table sticks out of the result by ${overhang} px at phone width`);
  await result.scrollIntoViewIfNeeded();
  await assertFitsWidth(page, result, 'the result');
  await result.locator('details.json summary').tap();
  await assertNoSidewaysScroll(page, 'the interview result with its JSON open');
  await assertFitsWidth(page, result.getByRole('link', { name: 'Continue in chat' }), '"Continue in chat"');

  // A text result streams at phone width too, and fits.
  await page.goto('/apps/translate?sample');
  await waitForScripts(page);
  await assertNoSidewaysScroll(page, 'the translate form');
  await page.locator('#app-form').getByRole('button', { name: 'Run', exact: true }).tap();
  await waitForResult(page, 'translate at phone width');
  await assertNoSidewaysScroll(page, 'the translation');
  assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
});

browserTest(
  'screenshots for the README (gallery, form, structured result, image, phone)',
  { skip: SCREENSHOTS ? false : 'set SCREENSHOTS=1 to write docs/screenshots/apps-*.png' },
  async ({ openPage }) => {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const shoot = async (page, file, options = {}) => {
      await page.evaluate(() => document.fonts.ready);
      const target = path.join(SCREENSHOT_DIR, file);
      await page.screenshot({ path: target, animations: 'disabled', caret: 'hide', ...options });
      assert.ok(fs.statSync(target).size > 10_000, `${file} looks empty`);
    };

    const page = await openPage(DESKTOP);
    await page.goto('/apps');
    await waitForScripts(page);
    await shoot(page, 'apps-gallery.png');

    await openWithSample(page, 'interview');
    await waitForScripts(page);
    await shoot(page, 'apps-form.png');

    // The result, scrolled to the top of the viewport.
    await run(page, 'interview');
    const structured = await waitForResult(page, 'interview');
    await structured.locator('.content.structured table').first().waitFor();
    await structured.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shoot(page, 'apps-structured.png');

    await openWithSample(page, 'image');
    await waitForScripts(page);
    await run(page, 'image');
    const picture = (await waitForResult(page, 'image')).locator('figure.picture img');
    await picture.evaluate((el) => (el.complete ? null : new Promise((resolve) => el.addEventListener('load', resolve, { once: true }))));
    await page.locator('#result').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shoot(page, 'apps-image.png');

    // A phone: the structured result, from its top.
    const phone = await openPage({ ...PHONE, colorScheme: 'light' });
    await openWithSample(phone, 'interview');
    await waitForScripts(phone);
    await phone.locator('#app-form').getByRole('button', { name: 'Run', exact: true }).tap();
    await waitForResult(phone, 'interview on a phone');
    await phone.locator('#result').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shoot(phone, 'apps-phone.png');
  },
);
