// Real-browser test of the export on the admin page: a user corrects an answer, and the
// admin downloads the fine-tuning file and its manifest from the form.
//
//   TEST_FILES=export.test.mjs bash tests/browser/run.sh
//
// SCREENSHOTS=1 also (re)writes docs/screenshots/export.png.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, REPO, SCREENSHOTS, SCREENSHOT_DIR, browserTest } from './helpers.mjs';

const PASSWORD = 'correct horse battery staple';
const ADMIN = 'admin@example.com';
const DESKTOP = { viewport: { width: 1280, height: 900 }, colorScheme: 'light' };
const CORRECTION = 'Paris is the capital of France.';

// The shipped site file with data_policy "accounts", and a database this file can reach
// (the admin is made with `promptship create-admin`, as an operator does).
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptship-export-'));
const site = path.join(dir, 'site.toml');
const database = `sqlite://${path.join(dir, 'export.db')}`;
fs.writeFileSync(
  site,
  fs.readFileSync(path.join(REPO, 'promptship.toml'), 'utf8').replace('data_policy = "off"', 'data_policy = "accounts"'),
);
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

browserTest(
  'the admin downloads a corrected answer as fine-tuning data',
  { env: { PROMPTSHIP_SITE: site, DATABASE_URL: database, DEMO_WORD_DELAY_MS: '0' } },
  async ({ openPage, pageErrors }) => {
    // A user asks, then writes a better answer on the page.
    const user = await openPage(DESKTOP);
    const signedUp = await user.request.post('/signup', { form: { email: 'user@example.com', password: PASSWORD }, maxRedirects: 0 });
    assert.equal(signedUp.status(), 303);
    const created = await user.request.post('/api/v1/conversations', { data: { title: 'Capitals' } });
    const { id } = await created.json();
    const answered = await user.request.post(`/api/v1/conversations/${id}/messages`, { data: { content: 'What is the capital of France?' } });
    assert.equal(answered.status(), 200, await answered.text());
    await user.goto(`/conversations/${id}`);
    const feedback = user.locator('#messages > article.message.assistant .feedback');
    await feedback.locator('summary').click();
    await feedback.getByLabel('Write a better answer').fill(CORRECTION);
    await feedback.getByRole('button', { name: 'Save feedback' }).click();
    await feedback.getByRole('status').filter({ hasText: 'Thank you: saved.' }).waitFor();

    execFileSync(BIN, ['create-admin', '--email', ADMIN], {
      cwd: REPO,
      env: { ...process.env, DATABASE_URL: database, ADMIN_PASSWORD: PASSWORD, PROMPTSHIP_SITE: site },
      stdio: 'pipe',
    });
    const page = await openPage({ ...DESKTOP, acceptDownloads: true });
    const loggedIn = await page.request.post('/login', { form: { email: ADMIN, password: PASSWORD }, maxRedirects: 0 });
    assert.equal(loggedIn.status(), 303);
    await page.goto('/admin#export');
    const form = page.locator('#export form');
    await form.locator('select[name=format]').selectOption('openai-sft');
    if (SCREENSHOTS) {
      await page.locator('#export').scrollIntoViewIfNeeded();
      await page.locator('#export').screenshot({ path: path.join(SCREENSHOT_DIR, 'export.png') });
    }

    // The download: one line, the conversation with the user's correction as the answer.
    const downloading = page.waitForEvent('download');
    await form.getByRole('button', { name: 'Download train.jsonl' }).click();
    const download = await downloading;
    assert.match(download.suggestedFilename(), /^promptship-openai-sft-\d{4}-\d{2}-\d{2}-train\.jsonl$/);
    const file = path.join(dir, 'train.jsonl');
    await download.saveAs(file);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1, `expected one example: ${lines.join('\n')}`);
    const { messages } = JSON.parse(lines[0]);
    assert.deepEqual(
      messages.map((m) => m.role),
      ['system', 'user', 'assistant'],
    );
    assert.equal(messages[1].content, 'What is the capital of France?');
    assert.equal(messages[2].content, CORRECTION, 'the correction is the ideal answer');

    // The manifest says what was written.
    const manifest = await page.request.get('/admin/export/manifest?format=openai-sft');
    assert.equal(manifest.status(), 200);
    const counts = await manifest.json();
    assert.equal(counts.format, 'openai-sft');
    assert.equal(JSON.stringify(counts).includes('"corrected"'), true, JSON.stringify(counts));
    assert.deepEqual(pageErrors, [], 'the page threw JavaScript errors');
  },
);
