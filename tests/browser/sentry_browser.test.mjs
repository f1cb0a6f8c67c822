// @sentry/browser 11 (the version pinned in package.json) in a real Chromium,
// on a test page served from an origin of its own, reporting to Sightline by
// its DSN (CORS, `sentry_key` in the query): its streamed spans show as a
// transaction in the Performance API and page with their count and p95, and the
// error captured inside the failed one links to its trace.
// On failure a screenshot is saved to tests/browser/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync } from 'node:fs';
import * as esbuild from 'esbuild';
import { startServer, launchChromium, hydrated, login } from './harness.mjs';

const ADMIN = 'admin@example.com';
const PASSWORD = 'a long passphrase';

let server;
let browser;
let app;
let appBase;
let dsn;
let token;

/** The test page's own server: the page and the bundled app, on another port. */
async function serveApp() {
  const bundle = await esbuild.build({
    entryPoints: ['pages/sentry-app.mjs'],
    bundle: true,
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0].text;
  const page = `<!doctype html><html><head><title>Web shop</title>
<script>window.SIGHTLINE_DSN = ${JSON.stringify(dsn)};</script>
<script type="module" src="/app.js"></script></head><body><h1>Web shop</h1></body></html>`;
  const httpServer = http.createServer((req, res) => {
    if (req.url === '/app.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(script);
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(page);
    }
  });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  return { server: httpServer, base: `http://127.0.0.1:${httpServer.address().port}` };
}

async function api(path) {
  const r = await fetch(`${server.base}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  const text = await r.text();
  assert.equal(r.status, 200, `${path} answered ${r.status}: ${text}`);
  return JSON.parse(text);
}

before(async () => {
  server = await startServer('sightline_sentry_browser');
  const sightline = server.sightline;
  sightline(['user', 'create', '--email', ADMIN, '--role', 'admin', '--password-stdin'], `${PASSWORD}\n`);
  const project = JSON.parse(sightline(['project', 'create', '--slug', 'web', '--name', 'Web shop', '--json']));
  assert.ok(project.dsn, 'project create prints the DSN');
  dsn = project.dsn;
  token = JSON.parse(sightline(['token', 'create', '--name', 'test', '--role', 'viewer', '--json'])).token;
  ({ server: app, base: appBase } = await serveApp());
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  app?.close();
  server?.stop();
});

test('@sentry/browser transactions show on the Performance page and link their error', async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('requestfailed', (r) => problems.push(`${r.url()}: ${r.failure()?.errorText}`));
  try {
    await page.goto(appBase);
    const done = await page.waitForFunction(() => window.sentryDone, null, { timeout: 20_000 });
    const sent = await done.jsonValue();
    assert.ok(sent.sdk.startsWith('11.'), `SDK ${sent.sdk}`);
    assert.equal(sent.flushed, true, `the SDK's requests were answered: ${problems.join('\n')}`);
    assert.deepEqual(problems, [], 'no request blocked (CORS) or failed');

    const { transactions } = await api('/api/v1/projects/web/performance/transactions');
    assert.deepEqual(transactions.map((t) => t.name), ['checkout click']);
    const [checkout] = transactions;
    assert.equal(checkout.count, 5);
    // 100..500 ms: p95 by linear interpolation is 480 ms.
    assert.ok(Math.abs(checkout.p95_ms - 480) < 1, `p95 ${checkout.p95_ms}`);
    assert.ok(Math.abs(checkout.error_rate - 0.2) < 0.001, `failure rate ${checkout.error_rate}`);

    const failed = sent.traces[4];
    const trace = await api(`/api/v1/projects/web/traces/${failed}`);
    assert.equal(trace.spans.length, 2);
    assert.equal(trace.errors.length, 1);
    assert.equal(trace.errors[0].title, 'Error: payment form crashed');

    // The same in the UI: the row with its count, and the error's issue
    // linking to the trace.
    await login(page, server.base, ADMIN, PASSWORD);
    await page.goto(`${server.base}/performance?project=web`);
    await hydrated(page);
    const row = page.locator('tr', { hasText: 'checkout click' });
    await row.waitFor({ timeout: 15_000 });
    assert.match(await row.innerText(), /\b5\b/);
    await page.goto(`${server.base}/performance/traces/${failed}?project=web`);
    await hydrated(page);
    await page.getByText('payment form crashed').first().waitFor({ timeout: 15_000 });
  } catch (error) {
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/sentry-browser-failure.png', fullPage: true }).catch(() => {});
    console.error(`screenshot: tests/browser/artifacts/sentry-browser-failure.png; page problems: ${problems.join('\n')}\nserver log tail:\n${server.logTail()}`);
    throw error;
  } finally {
    await page.close();
  }
});
