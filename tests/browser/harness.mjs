// What every browser test needs: a real Sightline server on a fresh database of
// the test PostgreSQL (DATABASE_URL), the `sightline` binary for one-off commands
// against it, and Debian's Chromium started headless with flags that keep it off
// the network.

import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import net from 'node:net';
import { chromium } from 'playwright-core';

const BIN = process.env.SIGHTLINE_BIN ?? '../../target/debug/sightline';
const SITE_ROOT = process.env.SIGHTLINE_SITE_ROOT ?? '../../target/site';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

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

/**
 * Starts `sightline serve` on a free port with a freshly created database named
 * `database`. Returns its base URL, a `sightline(args, input)` runner for CLI
 * commands against the same database, `logTail()` and `stop()`.
 */
export async function startServer(database) {
  const url = process.env.DATABASE_URL;
  assert.ok(url, 'DATABASE_URL must point at the test PostgreSQL');
  execFileSync('psql', [url, '-q', '-c', `drop database if exists ${database}`, '-c', `create database ${database}`]);
  const db = new URL(url);
  db.pathname = `/${database}`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    SIGHTLINE_DATABASE_URL: db.toString(),
    SIGHTLINE_LISTEN: `127.0.0.1:${port}`,
    SIGHTLINE_PUBLIC_URL: base,
    SIGHTLINE_LOG_FORMAT: 'json',
    LEPTOS_SITE_ROOT: SITE_ROOT,
  };
  let log = '';
  const server = spawn(BIN, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.on('data', (d) => { log += d; });
  server.stderr.on('data', (d) => { log += d; });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server not ready within 60 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    sightline: (args, input) => execFileSync(BIN, args, { env, input, encoding: 'utf8' }),
    stop: () => server.kill('SIGTERM'),
    /** The end of the server's log, for failure messages. */
    logTail: () => log.slice(-3000),
  };
}

/** Debian's Chromium, headless, kept off the network. */
export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
      '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Waits until the page's WASM has hydrated it. */
export async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20_000 });
}

/** Logs in on `base`'s login page and waits for the Overview. */
export async function login(page, base, email, password) {
  await page.goto(`${base}/login`);
  await hydrated(page);
  await page.fill('#login-email', email);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.waitForURL(`${base}/`);
}
