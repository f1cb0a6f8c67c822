// The Performance pages as a user meets them, in headless Chromium against a
// real server and a real PostgreSQL: Sentry transactions sent through the
// envelope endpoint appear in the endpoints table with their counts; headings
// sort it and the search narrows it (both kept in the URL); an admin is told in
// words why a threshold is refused, then changes it; a transaction's page draws
// its charts and lists its slowest traces; a trace's page shows its spans as a
// waterfall, the span's data on click, the error raised in it (linking to the
// Errors page) and its log line (linking to the Logs page).
// On failure a screenshot is saved to tests/browser/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { startServer, launchChromium, hydrated, login as logIn } from './harness.mjs';

const ADMIN = 'admin@example.com';
const VIEWER = 'viewer@example.com';
const PASSWORD = 'a long passphrase';
const hex = (bytes) => randomBytes(bytes).toString('hex');
// The checkout trace the test opens: a request with one database query.
const TRACE_ID = hex(16);
const ROOT_SPAN = hex(8);
const DB_SPAN = hex(8);
const EVENT_ID = randomUUID().replaceAll('-', '');

let server;
let browser;
let base;
let projectId;
let ingestKey;

/** Sends one Sentry transaction in an envelope, as the SDKs do. */
async function sendTransaction(transaction) {
  const envelope = `{}\n{"type":"transaction"}\n${JSON.stringify(transaction)}\n`;
  const r = await fetch(`${base}/api/${projectId}/envelope/`, {
    method: 'POST',
    headers: {
      'X-Sentry-Auth': `Sentry sentry_key=${ingestKey}, sentry_version=7, sentry_client=sightline-test/1.0`,
      'Content-Type': 'application/x-sentry-envelope',
    },
    body: envelope,
  });
  const body = await r.text();
  assert.equal(r.status, 200, `envelope answered ${r.status}: ${body}`);
}

/** A transaction named `name` that started `secondsAgo` and took `ms`. */
function transaction(name, { secondsAgo, ms, traceId = hex(16), spanId = hex(8), status = 'ok', spans = [] }) {
  const start = Date.now() / 1000 - secondsAgo;
  return {
    event_id: randomUUID().replaceAll('-', ''),
    type: 'transaction',
    transaction: name,
    platform: 'python',
    environment: 'production',
    release: 'shop@2.0.0',
    start_timestamp: start,
    timestamp: start + ms / 1000,
    contexts: { trace: { trace_id: traceId, span_id: spanId, op: 'http.server', status } },
    spans: spans.map((s) => ({
      trace_id: traceId,
      parent_span_id: spanId,
      start_timestamp: start + s.offsetMs / 1000,
      timestamp: start + (s.offsetMs + s.ms) / 1000,
      status: 'ok',
      ...s.fields,
    })),
  };
}

before(async () => {
  server = await startServer('sightline_performance_browser');
  base = server.base;
  const sightline = server.sightline;
  sightline(['user', 'create', '--email', ADMIN, '--role', 'admin', '--password-stdin'], `${PASSWORD}\n`);
  sightline(['user', 'create', '--email', VIEWER, '--role', 'viewer', '--password-stdin'], `${PASSWORD}\n`);
  const project = JSON.parse(sightline(['project', 'create', '--slug', 'shop', '--name', 'Shop', '--json']));
  projectId = project.project_id;
  ingestKey = project.ingest_key;
  assert.ok(projectId && ingestKey, 'project create prints the id and the ingest key');

  // Two checkouts (the slow one is the trace the test opens) and one cart view.
  await sendTransaction(transaction('GET /checkout', {
    secondsAgo: 120,
    ms: 900,
    traceId: TRACE_ID,
    spanId: ROOT_SPAN,
    status: 'internal_error',
    spans: [{
      offsetMs: 50,
      ms: 700,
      fields: {
        span_id: DB_SPAN,
        op: 'db.query',
        description: 'select * from price where sku = $1',
        data: { 'db.system': 'postgresql' },
        tags: { shard: 'eu-1' },
      },
    }],
  }));
  await sendTransaction(transaction('GET /checkout', { secondsAgo: 300, ms: 200 }));
  await sendTransaction(transaction('GET /cart', { secondsAgo: 200, ms: 40 }));

  // The error raised inside the query, through the legacy store endpoint.
  const store = await fetch(`${base}/api/${projectId}/store/`, {
    method: 'POST',
    headers: {
      'X-Sentry-Auth': `Sentry sentry_key=${ingestKey}, sentry_version=7, sentry_client=sightline-test/1.0`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({
      event_id: EVENT_ID,
      timestamp: new Date(Date.now() - 119_500).toISOString(),
      platform: 'python',
      level: 'error',
      exception: { values: [{ type: 'PriceMissing', value: 'no price for sku 42' }] },
      contexts: { trace: { type: 'trace', trace_id: TRACE_ID, span_id: DB_SPAN } },
    }),
  });
  assert.equal(store.status, 200, `store answered ${store.status}: ${await store.text()}`);

  // A log line of the same trace.
  const logs = await fetch(`${base}/api/v1/ingest/logs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ingestKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify([{
      ts: new Date(Date.now() - 119_600).toISOString(),
      level: 'warn',
      service: 'shop-web',
      host: 'web-1',
      message: 'price lookup slow for sku 42',
      trace_id: TRACE_ID,
    }]),
  });
  assert.equal(logs.status, 200, `log ingest answered ${logs.status}: ${await logs.text()}`);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

/** A fresh page that records page errors and console errors except `allowed`. */
async function openPage(allowed = /favicon/) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !allowed.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return { page, problems };
}

function login(page, email) {
  return logIn(page, base, email, PASSWORD);
}

/** Runs `body`; on failure saves a screenshot named after `name`. */
async function withScreenshot(name, page, problems, body) {
  try {
    await body();
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

/** The names of the table's rows, top to bottom, once there are `count`. */
async function rowNames(page, count) {
  await page.waitForFunction((n) => document.querySelectorAll('tr.transaction-row').length === n, count, { timeout: 15_000 });
  return page.locator('tr.transaction-row .transaction-name').allTextContents();
}

/** Waits until the URL's query has `key` = `value` (`null`: absent). */
async function urlHas(page, key, value) {
  await page.waitForFunction(([k, v]) => new URL(location.href).searchParams.get(k) === v, [key, value], { timeout: 10_000 });
}

test('endpoints, a transaction and its trace with errors and logs', async () => {
  // The refused threshold answers 400 on purpose; the browser logs that.
  const { page, problems } = await openPage(/favicon|status of 400/);
  await withScreenshot('performance', page, problems, async () => {
    await login(page, ADMIN);

    // The endpoints table: both transactions, the busiest first, with counts.
    await page.goto(`${base}/performance?project=shop&range=1h`);
    await hydrated(page);
    assert.deepEqual(await rowNames(page, 2), ['GET /checkout', 'GET /cart']);
    const checkout = page.locator('tr.transaction-row[data-name="GET /checkout"]');
    assert.equal((await checkout.locator('.transaction-count').textContent()).trim(), '2');
    assert.equal((await checkout.locator('.transaction-failures').textContent()).trim(), '50 %');
    // 50 % is past the 5 % band: red, where under 1 % would be green.
    assert.match(await checkout.locator('.transaction-failures').getAttribute('class'), /rate-poor/);
    assert.match(await checkout.locator('.transaction-p99').textContent(), /ms$/);
    await page.waitForSelector('.perf-chart canvas', { timeout: 10_000 });

    // Sorting by p95: slowest first, then the other way round; the URL says so.
    await page.click('button.sort-button[data-sort="p95_ms"]');
    await urlHas(page, 'sort', 'p95_ms');
    await page.waitForSelector('th[aria-sort="descending"] button[data-sort="p95_ms"]');
    assert.deepEqual(await rowNames(page, 2), ['GET /checkout', 'GET /cart']);
    await page.click('button.sort-button[data-sort="p95_ms"]');
    await urlHas(page, 'order', 'asc');
    await page.waitForFunction(() => document.querySelector('tr.transaction-row .transaction-name')?.textContent === 'GET /cart');

    // The search narrows the table and lands in the URL.
    await page.fill('#transactions-search', 'cart');
    await page.press('#transactions-search', 'Enter');
    await urlHas(page, 'q', 'cart');
    assert.deepEqual(await rowNames(page, 1), ['GET /cart']);
    await page.fill('#transactions-search', 'nothing-like-this');
    await page.click('#transactions-apply');
    await page.waitForSelector('.endpoint-list .empty', { timeout: 10_000 });
    assert.match(await page.textContent('.endpoint-list .empty'), /No transaction name contains/);
    await page.fill('#transactions-search', '');
    await page.click('#transactions-apply');
    await urlHas(page, 'q', null);
    await rowNames(page, 2);

    // The environment narrows it too: every transaction here is production's.
    await page.fill('#transactions-environment', 'staging');
    await page.click('#transactions-apply');
    await urlHas(page, 'environment', 'staging');
    await page.waitForSelector('.endpoint-list .empty', { timeout: 10_000 });
    assert.match(await page.textContent('.endpoint-list .empty'), /No transactions in environment “staging”/);
    await page.fill('#transactions-environment', 'production');
    await page.click('#transactions-apply');
    await urlHas(page, 'environment', 'production');
    assert.deepEqual(await rowNames(page, 2), ['GET /cart', 'GET /checkout']);
    await page.fill('#transactions-environment', '');
    await page.click('#transactions-apply');
    await urlHas(page, 'environment', null);
    await rowNames(page, 2);

    // The Apdex threshold: a refused value is explained, a good one is saved.
    assert.equal((await page.textContent('#apdex-threshold-value')).trim(), '500 ms');
    await page.click('#apdex-edit');
    await page.fill('#apdex-threshold', '0');
    await page.click('#apdex-save');
    const refused = page.locator('.perf-toolbar .error');
    await refused.waitFor({ timeout: 10_000 });
    assert.match(await refused.textContent(), /The threshold was not changed: apdex_threshold_ms: use 1 to 600000/);
    await page.fill('#apdex-threshold', '300');
    await page.click('#apdex-save');
    await page.waitForFunction(() => document.querySelector('#apdex-threshold-value')?.textContent.trim() === '300 ms');
    await page.waitForFunction(() => document.querySelector('#transactions-summary')?.textContent.includes('T = 300 ms'));
    assert.equal(await page.locator('.perf-toolbar .error').count(), 0);

    // A click on the row (not on its link) opens the transaction.
    await checkout.locator('.transaction-count').click();
    await page.waitForURL(/\/performance\/transaction\?/);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('name'), 'GET /checkout');
    assert.equal(url.searchParams.get('project'), 'shop');
    assert.equal(url.searchParams.get('range'), '1h');
    await page.waitForFunction(() => document.querySelector('h1')?.textContent.trim() === 'GET /checkout');
    await page.waitForFunction(() => document.querySelectorAll('.perf-chart-grid canvas').length === 4, null, { timeout: 15_000 });
    assert.match(await page.textContent('#chart-latency'), /p95 \(ms\)/);
    // The project's Apdex threshold is a dashed line on the durations chart.
    assert.match(await page.textContent('#chart-latency .legend-threshold'), /Apdex T \(300\)/);
    // The legend hides and shows a series, and the chart is drawn again without it.
    const p50 = page.locator('#chart-latency .legend-item', { hasText: 'p50' });
    const drawing = () => page.$eval('#chart-latency canvas', (c) => c.toDataURL());
    const withP50 = await drawing();
    assert.equal(await p50.getAttribute('aria-pressed'), 'true');
    await p50.click();
    assert.equal(await p50.getAttribute('aria-pressed'), 'false');
    assert.match(await p50.getAttribute('class'), /legend-off/);
    await page.waitForFunction((before) => document.querySelector('#chart-latency canvas').toDataURL() !== before, withP50);
    await p50.click();
    assert.equal(await p50.getAttribute('aria-pressed'), 'true');
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/transaction-desktop.png', fullPage: true });
    const desktop = page.viewportSize();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    await page.screenshot({ path: 'artifacts/transaction-phone.png', fullPage: true });
    await page.setViewportSize(desktop);
    assert.match(await page.textContent('#transaction-summary'), /2 transactions in this range/);
    // The slowest traces, slowest first: the checkout with the query.
    await page.waitForFunction(() => document.querySelectorAll('tr.slow-row').length === 2);
    const slowest = page.locator('tr.slow-row').first();
    assert.equal(await slowest.getAttribute('data-trace-id'), TRACE_ID);
    assert.match(await slowest.textContent(), /900 ms.*internal_error/s);

    // The trace: both spans on the waterfall, the query failed nowhere.
    await slowest.locator('a.slow-trace-link').click();
    await page.waitForURL(new RegExp(`/performance/traces/${TRACE_ID}\\?`));
    await page.waitForFunction(() => document.querySelectorAll('li.span-item').length === 2, null, { timeout: 15_000 });
    const root = page.locator(`li.span-item[data-span-id="${ROOT_SPAN}"]`);
    const db = page.locator(`li.span-item[data-span-id="${DB_SPAN}"]`);
    assert.equal(await root.getAttribute('data-depth'), '0');
    assert.equal(await db.getAttribute('data-depth'), '1');
    assert.match(await root.locator('.span-op').textContent(), /http\.server/);
    assert.match(await db.locator('.span-label').textContent(), /db\.query.*select \* from price/s);
    assert.match(await root.getAttribute('class'), /failed/, 'the failed request is red');
    assert.doesNotMatch(await db.getAttribute('class'), /failed/);
    assert.equal((await db.locator('.span-duration').textContent()).trim(), '700 ms');
    assert.match(await db.locator('.span-error-mark').textContent(), /1 error/);
    // Bars share the axis: the query starts at 50 of 900 ms and fills 700 of them.
    const style = await db.locator('.span-bar').getAttribute('style');
    assert.match(style, /left: 5\.55\d%; width: 77\.77\d%/);
    assert.ok(await page.locator('.waterfall-tick').count() >= 3, 'the axis has ticks');
    assert.equal((await page.textContent('#trace-duration')).trim(), '900 ms');
    assert.equal((await page.textContent('#trace-transaction')).trim(), 'GET /checkout');
    assert.equal((await page.textContent('.perf-back')).trim(), '← GET /checkout');

    // A click on the query shows its data and tags.
    await db.locator('button.span-row').click();
    const detail = db.locator('.span-detail');
    await detail.waitFor({ timeout: 5_000 });
    assert.match(await detail.locator('.span-data').textContent(), /db\.system.*postgresql/s);
    assert.match(await detail.locator('.span-tags').textContent(), /shard.*eu-1/s);
    assert.match(await detail.textContent(), /Errors in this span.*PriceMissing/s);

    // The error of the trace links to its event on the Errors page.
    const error = page.locator('#trace-errors .trace-error-link');
    assert.equal(await error.count(), 1);
    assert.match(await error.textContent(), /PriceMissing: no price for sku 42/);
    const errorHref = new URL(await error.getAttribute('href'), base);
    assert.match(errorHref.pathname, /^\/errors\/\d+$/);
    assert.equal(errorHref.searchParams.get('event'), EVENT_ID);
    assert.equal(errorHref.searchParams.get('project'), 'shop');
    assert.match(await page.textContent('#trace-errors'), /in db\.query select/);

    // Its log line, and the same search on the Logs page.
    const line = page.locator('tr.trace-log-row');
    assert.equal(await line.count(), 1);
    assert.match(await line.textContent(), /warn.*shop-web.*price lookup slow for sku 42/s);
    const logs = new URL(await page.getAttribute('#trace-open-logs', 'href'), base);
    assert.equal(logs.pathname, '/logs');
    assert.equal(logs.searchParams.get('q'), `trace_id:${TRACE_ID}`);
    assert.equal(logs.searchParams.get('project'), 'shop');
    assert.ok(logs.searchParams.get('from') && logs.searchParams.get('to'));
    await page.click('#trace-open-logs');
    await page.waitForURL(/\/logs\?/);
    await page.waitForFunction((q) => document.querySelector('#logs-query')?.value === q, `trace_id:${TRACE_ID}`, { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('tr.log-row .log-message')?.textContent.includes('price lookup slow'), null, { timeout: 15_000 });

    // Back on the trace, the error's link opens that event of the issue.
    await page.goBack();
    await page.locator('#trace-errors .trace-error-link').click();
    await page.waitForURL(/\/errors\/\d+\?/);
    await page.waitForFunction(() => document.querySelector('h1')?.textContent.includes('PriceMissing'), null, { timeout: 15_000 });
    await page.waitForFunction((id) => document.querySelector('#event-title code')?.getAttribute('title') === id, EVENT_ID, { timeout: 15_000 });
  });
});

test('a viewer sees an empty project, the threshold it uses and an unknown trace', async () => {
  // The unknown trace answers 404 on purpose; the browser logs that.
  const { page, problems } = await openPage(/favicon|status of 404/);
  await withScreenshot('performance-empty', page, problems, async () => {
    server.sightline(['project', 'create', '--slug', 'quiet', '--name', 'Quiet', '--json']);
    await login(page, VIEWER);
    await page.goto(`${base}/performance?project=quiet&range=1h`);
    await hydrated(page);
    const empty = page.locator('.endpoint-list .empty');
    await empty.waitFor({ timeout: 15_000 });
    assert.match(await empty.textContent(), /No transactions yet/);
    assert.match(await empty.textContent(), /traces_sample_rate.*\/v1\/traces/s);
    // Only admins may change the threshold: a viewer reads it.
    await page.waitForFunction(() => document.querySelector('.user-menu .badge')?.textContent === 'viewer');
    await page.waitForFunction(() => document.querySelector('#apdex-threshold-value')?.textContent.trim() === '500 ms');
    assert.equal(await page.locator('#apdex-edit').count(), 0);
    // A trace nobody sent is said in words.
    await page.goto(`${base}/performance/traces/${hex(16)}?project=quiet`);
    await hydrated(page);
    await page.waitForSelector('.empty', { timeout: 15_000 });
    assert.match(await page.textContent('.content'), /Nothing of this trace was received/);
  });
});
