// Sightline's UI as a new user meets it, in headless Chromium against a real
// server and a real PostgreSQL: the first-admin page, log out and in, every
// sidebar item (each naming itself in the tab's title), creating a project in
// Settings and reading its DSN, the project last looked at opening next, log out.
// On failure a screenshot is saved to tests/browser/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startServer, launchChromium, hydrated } from './harness.mjs';

let server;
let browser;
let base;

before(async () => {
  server = await startServer('sightline_browser');
  base = server.base;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

const SIDEBAR = [
  ['/logs', 'Logs'], ['/errors', 'Errors'], ['/performance', 'Performance'], ['/metrics/explore', 'Metrics'],
  ['/analytics', 'Analytics'], ['/dashboards', 'Dashboards'], ['/alerts', 'Alerts'], ['/settings', 'Settings'],
  ['/', 'Overview'],
];

async function heading(page, text) {
  await page.waitForFunction((t) => document.querySelector('h1')?.textContent?.trim() === t, text, { timeout: 15_000 });
}

test('a new user sets up Sightline, visits every page and creates a project', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon|status of 401/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  try {
    // No user yet: every page leads to the first-admin page.
    await page.goto(`${base}/`);
    assert.match(page.url(), /\/setup$/);
    await hydrated(page);
    await page.fill('#setup-email', 'admin@example.com');
    await page.fill('#setup-password', 'a long passphrase');
    await page.fill('#setup-confirm', 'a long passphrase');
    await page.click('#setup-submit');
    await page.waitForURL(`${base}/`);
    await heading(page, 'Overview');

    // Log out, then log in through the login page.
    await hydrated(page);
    await page.click('#logout');
    await page.waitForURL(/\/login/);
    await hydrated(page);
    await page.fill('#login-email', 'admin@example.com');
    await page.fill('#login-password', 'wrong password');
    await page.click('#login-submit');
    await page.waitForSelector('.error', { timeout: 10_000 });
    await page.fill('#login-password', 'a long passphrase');
    await page.click('#login-submit');
    await page.waitForURL(`${base}/`);
    await heading(page, 'Overview');
    await hydrated(page);

    // Every sidebar item opens its page.
    for (const [path, name] of SIDEBAR) {
      await page.locator('nav.sidebar a', { hasText: name }).first().click();
      await heading(page, name);
      assert.equal(new URL(page.url()).pathname, path);
      // Pages about a project name it too: on a first run, the built-in
      // self-monitoring project (`Logs · Sightline (self-monitoring) · Sightline`).
      await page.waitForFunction(
        (n) => document.title === `${n} · Sightline` || document.title === `${n} · Sightline (self-monitoring) · Sightline`,
        name,
      );
    }

    // Settings: create a project and read its DSN.
    await page.click('nav.sidebar a[href^="/settings"]');
    await heading(page, 'Settings');
    await page.fill('#project-slug', 'web');
    await page.fill('#project-name', 'Web shop');
    await page.click('#project-create');
    const dsn = page.locator('.dsn').first();
    await dsn.waitFor({ timeout: 15_000 });
    const text = (await dsn.textContent()).trim();
    const port = new URL(base).port;
    assert.match(text, new RegExp(`^http://[0-9a-f]{32}@127\\.0\\.0\\.1:${port}/\\d+$`));

    // With two projects, the one last looked at is where a page without
    // ?project= opens, and the tab names it.
    server.sightline(['project', 'create', '--slug', 'api', '--name', 'API']);
    const remembered = page.waitForResponse((r) => r.url().endsWith('/api/v1/me/project') && r.request().method() === 'PUT');
    await page.goto(`${base}/logs?project=api`);
    await page.waitForFunction(() => document.title === 'Logs · API · Sightline');
    assert.equal((await remembered).status(), 204);
    await page.goto(`${base}/errors`);
    await hydrated(page);
    await page.waitForFunction(() => document.querySelector('#project-select')?.value === 'api', null, { timeout: 10_000 });
    await page.waitForFunction(() => document.title === 'Errors · API · Sightline');

    await page.click('#logout');
    await page.waitForURL(/\/login/);
    assert.deepEqual(problems, []);
  } catch (error) {
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/failure.png', fullPage: true }).catch(() => {});
    console.error(`screenshot: tests/browser/artifacts/failure.png; page errors: ${problems.join('\n')}`);
    throw error;
  } finally {
    await page.close();
  }
});
