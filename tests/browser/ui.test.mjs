// Sightline's UI as a new user meets it, in headless Chromium against a real
// server and a real PostgreSQL: the first-admin page, log out and in, every
// sidebar item, creating a project in Settings and reading its DSN, log out.
// On failure a screenshot is saved to tests/browser/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { chromium } from 'playwright-core';

const BIN = process.env.SIGHTLINE_BIN ?? '../../target/debug/sightline';
const SITE_ROOT = process.env.SIGHTLINE_SITE_ROOT ?? '../../target/site';
const DATABASE_URL = process.env.DATABASE_URL;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

let server;
let browser;
let base;
let serverLog = '';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server not ready within ${ms} ms:\n${serverLog}`);
}

before(async () => {
  assert.ok(DATABASE_URL, 'DATABASE_URL must point at the test PostgreSQL');
  const db = new URL(DATABASE_URL);
  execFileSync('psql', [DATABASE_URL, '-q', '-c', 'drop database if exists sightline_browser', '-c', 'create database sightline_browser']);
  db.pathname = '/sightline_browser';
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['serve'], {
    env: {
      ...process.env,
      SIGHTLINE_DATABASE_URL: db.toString(),
      SIGHTLINE_LISTEN: `127.0.0.1:${port}`,
      SIGHTLINE_PUBLIC_URL: base,
      SIGHTLINE_LOG_FORMAT: 'json',
      LEPTOS_SITE_ROOT: SITE_ROOT,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitReady(base, 60_000);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
      '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
});

const SIDEBAR = [
  ['/logs', 'Logs'], ['/errors', 'Errors'], ['/performance', 'Performance'], ['/metrics/explore', 'Metrics'],
  ['/analytics', 'Analytics'], ['/dashboards', 'Dashboards'], ['/alerts', 'Alerts'], ['/settings', 'Settings'],
  ['/', 'Overview'],
];

async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20_000 });
}

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
