// Real-browser tests of the about page (English and Korean, a phone's width, axe) and of
// Settings → Your data: an account deleted through its pages.
//
//   TEST_FILES=about.test.mjs bash tests/browser/run.sh
//
// SCREENSHOTS=1 also (re)writes docs/screenshots/about.png and about-ko.png.
// Helpers, environment and failure diagnostics: see helpers.mjs.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import {
  REPO,
  SCREENSHOTS,
  SCREENSHOT_DIR,
  browserTest,
  waitForAnswer,
  waitForScripts,
} from './helpers.mjs';

const PASSWORD = 'correct horse battery staple';
const DESKTOP = { viewport: { width: 1100, height: 900 }, colorScheme: 'light' };
const PHONE = { viewport: { width: 360, height: 740 }, hasTouch: true };

/** The shipped site file with the links a builder would add. */
function siteFileWithLinks() {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'promptship-site-')), 'promptship.toml');
  const shipped = fs.readFileSync(path.join(REPO, 'promptship.toml'), 'utf8');
  fs.writeFileSync(
    file,
    `${shipped}
[[about.links]]
label = "GitHub"
url = "https://github.com/your-name"

[[about.links]]
label = "Portfolio"
label_ko = "포트폴리오"
url = "https://your-name.dev"
`,
  );
  return file;
}

/** Serious and critical accessibility violations axe finds in the page. */
async function seriousViolations(page) {
  const axe = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axe);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const figure = (page, name) => page.locator(`[data-figure="${name}"]`).textContent();

browserTest(
  'the about page: reached from the footer, live figures, both languages, fits a 360 px phone',
  { env: { PROMPTSHIP_SITE: siteFileWithLinks() } },
  async ({ openPage, pageErrors }) => {
    const page = await openPage({ ...DESKTOP, bypassCSP: true });
    // One answer first, so the figures have something to show.
    await page.goto('/');
    await waitForScripts(page);
    await page.locator('#content').fill('What makes a good README?');
    await page.keyboard.press('Enter');
    await waitForAnswer(page, 1);

    await page.locator('footer.site-footer').getByRole('link', { name: 'About this site' }).click();
    await page.waitForURL('**/about');
    assert.equal(await page.locator('h1').textContent(), 'About promptship');
    assert.equal((await figure(page, 'answers')).trim(), '1');
    assert.match((await figure(page, 'median-first-token')).trim(), /^\d[\d,]* ms$/);
    assert.match((await figure(page, 'uptime')).trim(), /^\d+ minutes?$/);
    const github = page.getByRole('link', { name: 'GitHub' });
    assert.equal(await github.getAttribute('href'), 'https://github.com/your-name');
    assert.ok(await page.getByRole('link', { name: 'axum' }).isVisible());
    assert.deepEqual(await seriousViolations(page), [], 'axe: English about page');
    if (SCREENSHOTS) {
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'about.png'), fullPage: true });
    }

    // Korean, through the header's switch: the site file's _ko texts and the sentences.
    await page.locator('form.lang-switch').getByRole('button', { name: '한국어' }).click();
    await page.waitForURL('**/about');
    assert.equal(await page.locator('html').getAttribute('lang'), 'ko');
    assert.equal(await page.locator('h1').textContent(), 'promptship 소개');
    assert.ok(await page.getByRole('link', { name: '포트폴리오' }).isVisible());
    assert.match(await page.locator('.bio').textContent(), /만들었습니다/);
    assert.match((await figure(page, 'uptime')).trim(), /^\d+분$/);
    assert.deepEqual(await seriousViolations(page), [], 'axe: Korean about page');
    if (SCREENSHOTS) {
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'about-ko.png'), fullPage: true });
    }

    // A 360 px phone, dark: nothing of the page (the header is the layout's) wider than
    // the screen.
    const phone = await openPage({ ...PHONE, colorScheme: 'dark' });
    await phone.goto('/about');
    const widest = await phone.evaluate(() =>
      Math.max(...[...document.querySelectorAll('main *, footer *')].map((e) => e.getBoundingClientRect().right)),
    );
    assert.ok(widest <= 360, `the about page reaches ${widest} px on a 360 px screen`);
    const footerLink = await phone.locator('footer.site-footer a').boundingBox();
    assert.ok(footerLink.height >= 44, `the footer link is ${footerLink.height} px tall`);
    assert.deepEqual(pageErrors, [], 'the pages threw JavaScript errors');
  },
);

browserTest('an account is deleted from Settings → Your data, after its password', {}, async ({ openPage, pageErrors }) => {
  const page = await openPage({ ...DESKTOP, bypassCSP: true });
  const email = 'leaving@example.com';
  await page.goto('/signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL((url) => url.pathname === '/');
  await waitForScripts(page);
  await page.locator('#content').fill('Remember me?');
  await page.keyboard.press('Enter');
  await waitForAnswer(page, 1);

  await page.locator('header.topbar').getByRole('link', { name: 'Settings' }).click();
  await page.waitForURL('**/settings/keys');
  await page.locator('a[href="/settings/data"]').click();
  await page.waitForURL('**/settings/data');
  assert.deepEqual(await seriousViolations(page), [], 'axe: the data page');
  const download = page.getByRole('button', { name: 'Download my data' });
  assert.equal(await download.getAttribute('href'), '/settings/data/export');

  // The wrong password: refused, said why, nothing deleted.
  const section = page.locator('#delete');
  await section.getByLabel('Type your password to confirm').fill('not my password');
  await section.getByRole('button', { name: 'Delete my account' }).click();
  await section.getByRole('alert').filter({ hasText: 'That is not your password' }).waitFor();
  assert.equal(await section.getByLabel('Type your password to confirm').getAttribute('aria-invalid'), 'true');

  await section.getByLabel('Type your password to confirm').fill(PASSWORD);
  await section.getByRole('button', { name: 'Delete my account' }).click();
  await page.getByRole('heading', { name: 'Your account is deleted' }).waitFor();
  // Logged out: the header is a guest's, and the password opens nothing any more.
  assert.ok(await page.locator('header.topbar a[href="/login"]').isVisible());
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong email or password.' }).waitFor();
  assert.deepEqual(pageErrors, [], 'the pages threw JavaScript errors');
});
