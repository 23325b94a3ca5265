// Accessibility: axe-core (npm, pinned in package.json) on every page, at 360 px and on a
// desktop, light and dark, in English and Korean. A serious or critical finding fails.
// Pages that need data (a conversation, an app run, a review item) are made first,
// through the API, by an admin made the way an operator makes one.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { BIN, REPO, browserTest } from './helpers.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const PASSWORD = 'correct horse battery staple';
const ADMIN = 'admin@example.com';
const SIZES = {
  phone: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1280, height: 900 } },
};

// The shipped site file, with a data policy that puts answers in the review queue.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptship-a11y-'));
const site = path.join(dir, 'site.toml');
fs.writeFileSync(
  site,
  fs.readFileSync(path.join(REPO, 'promptship.toml'), 'utf8').replace('data_policy = "off"', 'data_policy = "accounts"'),
);
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

/** axe's serious and critical findings on the page as it is now, one line each. */
async function seriousFindings(page) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id} (${v.help}): ${v.targets.join(', ')}`);
}

for (const locale of ['en-US', 'ko-KR']) {
  const db = path.join(dir, `a11y-${locale}.db`);
  browserTest(
    `axe finds nothing serious on any page (${locale}; 360 px and desktop; light and dark)`,
    { timeout: 300_000, env: { PROMPTSHIP_SITE: site, DATABASE_URL: `sqlite://${db}`, DEMO_WORD_DELAY_MS: '0' } },
    async ({ openPage }) => {
      // The data the pages show: an admin with a chat, an app run and a queue to review.
      const setup = await openPage();
      await setup.request.get('/healthz');
      execFileSync(BIN, ['create-admin', '--email', ADMIN], {
        cwd: REPO,
        env: { ...process.env, DATABASE_URL: `sqlite://${db}`, ADMIN_PASSWORD: PASSWORD, PROMPTSHIP_SITE: site },
        stdio: 'pipe',
      });
      const loggedIn = await setup.request.post('/login', { form: { email: ADMIN, password: PASSWORD }, maxRedirects: 0 });
      assert.equal(loggedIn.status(), 303);
      const created = await setup.request.post('/api/v1/conversations', { data: { title: 'A question' } });
      const { id: conversation } = await created.json();
      const answered = await setup.request.post(`/api/v1/conversations/${conversation}/messages`, {
        data: { content: 'What is **SQLite**? Answer with a list and some `code`.' },
      });
      assert.equal(answered.status(), 200, await answered.text());
      const run = await setup.request.post('/api/v1/apps/translate/runs', { data: { text: '정말 감사합니다' } });
      assert.equal(run.status(), 200, await run.text());
      const { run_id: runId } = await run.json();
      const item = await setup.request.get('/review/next', { maxRedirects: 0 });
      assert.equal(item.status(), 303);
      const reviewItem = new URL(item.headers().location, 'http://x').pathname;
      const shared = await setup.request.post(`/conversations/${conversation}/share`, { maxRedirects: 0 });
      assert.equal(shared.status(), 303);
      const shares = await (await setup.request.get('/settings/shares')).text();
      const share = shares.match(/\/s\/[A-Za-z0-9_-]{22}/)?.[0];
      assert.ok(share, 'the shares page lists the link');
      const admin = await setup.context().storageState();

      const pages = {
        guest: ['/', '/about', '/apps', '/apps/translate', '/login', '/signup', '/no-such-page', share],
        admin: [
          `/conversations/${conversation}`,
          `/apps/translate/runs/${runId}`,
          '/settings/keys',
          '/settings/shares',
          '/settings/data',
          '/admin',
          '/review',
          reviewItem,
          '/admin/batches',
          '/admin/batches/new',
        ],
      };
      const findings = [];
      for (const [size, sizeOptions] of Object.entries(SIZES)) {
        for (const colorScheme of ['light', 'dark']) {
          for (const [who, paths] of Object.entries(pages)) {
            const page = await openPage({
              ...sizeOptions,
              colorScheme,
              locale,
              // axe is injected as a script of its own; the site's CSP would refuse it.
              bypassCSP: true,
              ...(who === 'admin' ? { storageState: admin } : {}),
            });
            for (const url of paths) {
              await page.goto(url);
              assert.equal(await page.getAttribute('html', 'lang'), locale.slice(0, 2), `${url}: <html lang>`);
              for (const finding of await seriousFindings(page)) {
                findings.push(`${url} (${size}, ${colorScheme}): ${finding}`);
              }
            }
            await page.context().close();
          }
        }
      }
      assert.deepEqual(findings, [], 'axe findings');
    },
  );
}
