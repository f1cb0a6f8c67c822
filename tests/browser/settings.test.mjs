// Settings as an admin and as a viewer meet it, in headless Chromium against a
// real server: one tab at a time (the tab in the URL); an admin edits a user's
// name and role, deactivates and reactivates them, is told the last admin
// cannot step down, and removes a user; a viewer is offered only what they may
// do (no Users or API tokens tab, no create or revoke buttons) and reads why.
// Screenshots of both at desktop and phone width go to tests/browser/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startServer, launchChromium, hydrated, login } from './harness.mjs';

const ADMIN = 'admin@example.com';
const VIEWER = 'viewer@example.com';
const LEAVER = 'leaver@example.com';
const PASSWORD = 'a long passphrase';

let server;
let browser;

before(async () => {
  server = await startServer('sightline_settings_browser');
  for (const [email, role] of [[ADMIN, 'admin'], [VIEWER, 'viewer'], [LEAVER, 'editor']]) {
    server.sightline(['user', 'create', '--email', email, '--role', role, '--password-stdin'], `${PASSWORD}\n`);
  }
  server.sightline(['project', 'create', '--slug', 'shop', '--name', 'Shop']);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

async function screenshots(page, name) {
  mkdirSync('artifacts', { recursive: true });
  await page.screenshot({ path: `artifacts/${name}-desktop.png`, fullPage: true });
  const desktop = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: `artifacts/${name}-phone.png`, fullPage: true });
  await page.setViewportSize(desktop);
}

async function withPage(name, body) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // The refused change (the last admin) answers 409 on purpose.
    if (m.type() === 'error' && !/favicon|status of 409/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  try {
    await body(page);
    assert.deepEqual(problems, []);
  } catch (error) {
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: `artifacts/${name}-failure.png`, fullPage: true }).catch(() => {});
    console.error(`screenshot: tests/browser/artifacts/${name}-failure.png; page errors: ${problems.join('\n')}\nserver log tail:\n${server.logTail()}`);
    throw error;
  } finally {
    await page.close();
  }
}

const row = (page, email) => page.locator(`tr.user-row[data-email="${email}"]`);

test('an admin manages users from their tab', async () => {
  await withPage('settings-admin', async (page) => {
    await login(page, server.base, ADMIN, PASSWORD);
    await page.goto(`${server.base}/settings?project=shop`);
    await hydrated(page);
    // Projects first; the other tabs are links that keep the project.
    await page.waitForSelector('#project-create');
    assert.equal(await page.getAttribute('#tab-projects', 'aria-selected'), 'true');
    assert.equal(await page.locator('#key-create').count(), 0, 'one section at a time');
    await page.click('#tab-users');
    await page.waitForURL(/tab=users/);
    assert.match(page.url(), /project=shop/);
    await row(page, VIEWER).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('#project-create').count(), 0);

    // Name and role.
    await row(page, VIEWER).locator('.user-edit').click();
    await row(page, VIEWER).locator('input[aria-label="Name"]').fill('Vera Viewer');
    await row(page, VIEWER).locator('select[aria-label="Role"]').selectOption('editor');
    await row(page, VIEWER).locator('button[type="submit"]').click();
    await page.waitForFunction((email) => {
      const r = document.querySelector(`tr.user-row[data-email="${email}"]`);
      return r?.querySelector('.user-name')?.textContent === 'Vera Viewer' && r.querySelector('.user-role')?.textContent === 'editor';
    }, VIEWER);

    // Deactivate and reactivate.
    await row(page, LEAVER).locator('.user-active').click();
    await page.waitForFunction((email) => document.querySelector(`tr.user-row[data-email="${email}"]`)?.textContent.includes('deactivated'), LEAVER);
    await row(page, LEAVER).locator('.user-active', { hasText: 'Reactivate' }).click();
    await page.waitForFunction((email) => !document.querySelector(`tr.user-row[data-email="${email}"]`)?.textContent.includes('deactivated'), LEAVER);

    // The only admin cannot step down: the server's reason is shown.
    await row(page, ADMIN).locator('.user-active').click();
    const error = row(page, ADMIN).locator('.error');
    await error.waitFor({ timeout: 10_000 });
    assert.match(await error.textContent(), /admin@example\.com is the last active admin/);

    // Remove, after a confirmation.
    await row(page, LEAVER).locator('.user-remove').click();
    await row(page, LEAVER).locator('.user-remove-confirm').click();
    await page.waitForFunction((email) => !document.querySelector(`tr.user-row[data-email="${email}"]`), LEAVER);
    await screenshots(page, 'settings-users');
  });
});

test("a viewer's Settings offer only what a viewer may do", async () => {
  await withPage('settings-viewer', async (page) => {
    // The admin test made the viewer an editor: make them a viewer again.
    server.sightline(['user', 'create', '--email', 'reader@example.com', '--role', 'viewer', '--password-stdin'], `${PASSWORD}\n`);
    await login(page, server.base, 'reader@example.com', PASSWORD);
    await page.goto(`${server.base}/settings?project=shop`);
    await hydrated(page);
    await page.waitForSelector('.settings-role-note');
    assert.match(await page.textContent('.settings-role-note'), /needs the admin role; you are viewer/);
    assert.deepEqual(
      (await page.locator('nav.tabs a').allTextContents()).map((t) => t.trim()),
      ['Projects', 'Ingest keys'],
    );
    await page.locator('table tr', { hasText: 'shop' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('#project-create').count(), 0, 'no create form');
    assert.equal(await page.locator('table button', { hasText: 'Delete' }).count(), 0, 'no delete');
    // The keys: the DSN to copy, nothing to rotate or revoke.
    await page.click('#tab-keys');
    await page.locator('.dsn').first().waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('#key-create').count(), 0);
    assert.equal(await page.locator('.key-actions button').count(), 0);
    // A link to an admin tab says why instead of failing.
    await page.goto(`${server.base}/settings?project=shop&tab=users`);
    await hydrated(page);
    await page.waitForSelector('.settings-role-note');
    assert.equal(await page.locator('tr.user-row').count(), 0);
    await screenshots(page, 'settings-viewer');
  });
});
