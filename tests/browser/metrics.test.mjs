// The Metrics explorer as a user meets it, in headless Chromium against a real
// server and a real PostgreSQL: samples pushed through the native metrics API
// are charted by a PromQL query kept in the URL, with the latest value of each
// series in a table; metric names autocomplete with their TYPE and HELP; a
// query that does not parse is said in words inside the panel; and
// Sightline's own metrics are there out of the box (the `sightline` project
// scrapes the server's /metrics, its target listed as up); a node_exporter
// (Debian's prometheus-node-exporter) added in the scrape targets form is
// scraped, its series queryable, and removed again.
// Screenshots at desktop and phone width go to tests/browser/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { startServer, launchChromium, login as logIn } from './harness.mjs';

const ADMIN = 'admin@example.com';
const PASSWORD = 'a long passphrase';

let server;
let browser;
let base;

before(async () => {
  server = await startServer('sightline_metrics_browser');
  base = server.base;
  const sightline = server.sightline;
  sightline(['user', 'create', '--email', ADMIN, '--role', 'admin', '--password-stdin'], `${PASSWORD}\n`);
  const project = JSON.parse(sightline(['project', 'create', '--slug', 'shop', '--name', 'Shop', '--json']));
  const key = project.ingest_key;

  // 30 minutes of a counter per status code, every 15 s, and its metadata.
  const now = Date.now();
  const samples = [];
  for (let t = now - 30 * 60_000; t <= now; t += 15_000) {
    const step = (t - (now - 30 * 60_000)) / 15_000;
    samples.push({ name: 'http_requests_total', labels: { job: 'api', code: '200' }, value: step * 30, ts: t });
    samples.push({ name: 'http_requests_total', labels: { job: 'api', code: '500' }, value: step * 3, ts: t });
  }
  const r = await fetch(`${base}/api/v1/ingest/metrics`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(samples),
  });
  assert.equal(r.status, 200, `metrics ingest answered ${r.status}: ${await r.text()}`);
  const text = '# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\n';
  const meta = await fetch(`${base}/api/v1/ingest/metrics`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'text/plain; version=0.0.4' },
    body: text,
  });
  assert.equal(meta.status, 200, `metadata answered ${meta.status}: ${await meta.text()}`);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

async function openPage() {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // A query that does not parse is a 400 the page shows in words.
    if (m.type() === 'error' && !/favicon|status of 400/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return { page, problems };
}

async function withScreenshot(name, page, problems, body) {
  try {
    await body();
    assert.deepEqual(problems, []);
  } catch (error) {
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: `artifacts/${name}-failure.png`, fullPage: true }).catch(() => {});
    console.error(`screenshot: tests/browser/artifacts/${name}-failure.png; ${problems.join('\n')}\nserver log tail:\n${server.logTail()}`);
    throw error;
  } finally {
    await page.close();
  }
}

test('a PromQL query is charted with the latest values, names autocomplete, errors are words', async () => {
  const { page, problems } = await openPage();
  await withScreenshot('metrics', page, problems, async () => {
    await logIn(page, base, ADMIN, PASSWORD);
    const q = encodeURIComponent('sum by (code) (rate(http_requests_total[5m]))');
    await page.goto(`${base}/metrics/explore?project=shop&range=1h&q=${q}`);
    await page.waitForSelector('#metrics-chart canvas');
    const rows = page.locator('#metrics-latest tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 2);
    const cells = await page.locator('#metrics-latest tbody td').allTextContents();
    // 30 a sample every 15 s is 2 a second; 3 every 15 s is 0.2.
    assert.deepEqual([cells[0], cells[2]], ['{code="200"}', '{code="500"}']);
    assert.ok(Math.abs(Number(cells[1]) - 2) < 0.01 && Math.abs(Number(cells[3]) - 0.2) < 0.001, `${cells}`);
    assert.equal(await page.inputValue('#metrics-query'), 'sum by (code) (rate(http_requests_total[5m]))');
    const option = page.locator('#metric-names option[value="http_requests_total"]');
    assert.equal(await option.count(), 1);
    assert.equal(await option.textContent(), 'counter — Requests served.');

    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/metrics-desktop.png', fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForSelector('#metrics-chart canvas');
    await page.screenshot({ path: 'artifacts/metrics-phone.png', fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });

    // Dragging across the chart zooms into that span: a fixed range in the
    // URL (as the time range picker writes one), and the chart redrawn.
    const canvas = page.locator('#metrics-chart canvas');
    await canvas.waitFor();
    const box = await canvas.boundingBox();
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2, { steps: 5 });
    assert.equal(await page.locator('#metrics-chart .chart-selection').count(), 1);
    await page.mouse.up();
    await page.waitForFunction(() => {
      const p = new URL(location.href).searchParams;
      return p.get('from') && p.get('to') && !p.get('range');
    });
    const zoomed = new URL(page.url()).searchParams;
    const span = Date.parse(zoomed.get('to')) - Date.parse(zoomed.get('from'));
    assert.ok(span > 10 * 60_000 && span < 40 * 60_000, `zoomed into ${span} ms of the hour`);
    assert.equal(zoomed.get('q'), 'sum by (code) (rate(http_requests_total[5m]))');
    await page.waitForSelector('#metrics-chart canvas');
    await page.screenshot({ path: 'artifacts/metrics-zoomed-desktop.png', fullPage: true });

    // A query that does not parse: the panel says so, and the URL keeps it.
    await page.fill('#metrics-query', 'sum((');
    await page.click('#metrics-run');
    await page.waitForSelector('#metrics-chart .error');
    assert.match(await page.textContent('#metrics-chart .error'), /query/);
    assert.match(page.url(), /q=sum/);
  });
});

test('several queries are overlaid, charted as rates and stacked', async () => {
  const { page, problems } = await openPage();
  await withScreenshot('metrics-overlay', page, problems, async () => {
    await logIn(page, base, ADMIN, PASSWORD);
    const a = 'http_requests_total{code="200"}';
    const b = 'http_requests_total{code="500"}';
    await page.goto(`${base}/metrics/explore?project=shop&range=1h&q=${encodeURIComponent(a)}&q=${encodeURIComponent(b)}`);
    assert.equal(await page.inputValue('#metrics-query'), a);
    assert.equal(await page.inputValue('#metrics-query-b'), b);
    const rows = page.locator('#metrics-latest tbody tr');
    await rows.nth(1).waitFor();
    assert.deepEqual(await page.locator('#metrics-latest thead th').allTextContents(), ['Query', 'Series', 'Value now']);
    const first = await rows.nth(0).locator('td').allTextContents();
    const second = await rows.nth(1).locator('td').allTextContents();
    assert.equal(first[0], 'A');
    assert.equal(second[0], 'B');
    // The counters' values now: 30 and 3 a sample for 30 minutes.
    assert.ok(Number(first[2]) > 3000 && Number(second[2]) > 300, `${first} ${second}`);
    const legend = await page.locator('#metrics-chart .legend-item').allTextContents();
    assert.equal(legend.length, 2);
    assert.ok(legend[0].startsWith('A: ') && legend[1].startsWith('B: '), `${legend}`);
    // Each plain selector has its own label filters.
    await page.locator('#metrics-filters-b select[data-label="code"]').waitFor();

    // The rate toggle charts each query's per-second rate: 2/s and 0.2/s.
    await page.check('#metrics-rate');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('rate') === '1');
    assert.match(await page.textContent('.rate-hint'), /rate\(http_requests_total\{code="200"\}\[5m\]\)/);
    await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('#metrics-latest tbody tr td:last-child')];
      return cells.length === 2 && Math.abs(Number(cells[0].textContent) - 2) < 0.01;
    });
    const rates = await page.locator('#metrics-latest tbody tr td:last-child').allTextContents();
    assert.ok(Math.abs(Number(rates[1]) - 0.2) < 0.001, `${rates}`);

    // Stacked: the URL keeps it, and a reload keeps both toggles.
    await page.check('#metrics-stacked');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('stack') === '1');
    await page.reload();
    await page.waitForSelector('#metrics-chart canvas');
    assert.equal(await page.isChecked('#metrics-rate'), true);
    assert.equal(await page.isChecked('#metrics-stacked'), true);
    await page.locator('#metrics-latest tbody tr').nth(1).waitFor();
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/metrics-stacked-desktop.png', fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForSelector('#metrics-chart canvas');
    await page.screenshot({ path: 'artifacts/metrics-stacked-phone.png', fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });

    // A third query is added and run; a query that does not parse is named.
    await page.click('#metrics-add-query');
    await page.fill('#metrics-query-c', 'sum((');
    await page.click('#metrics-run');
    await page.waitForFunction(() => new URL(location.href).searchParams.getAll('q').length === 3);
    await page.waitForSelector('#metrics-chart .error');
    assert.match(await page.textContent('#metrics-chart .error'), /Query C/);
    // Removing the second query leaves the first and the third.
    await page.click('button[aria-label="Remove query B"]');
    await page.waitForFunction(() => new URL(location.href).searchParams.getAll('q').length === 2);
    assert.deepEqual(new URL(page.url()).searchParams.getAll('q'), [a, 'sum((']);
  });
});

test('the label filters narrow a selector to one value and back', async () => {
  const { page, problems } = await openPage();
  await withScreenshot('metrics-filters', page, problems, async () => {
    await logIn(page, base, ADMIN, PASSWORD);
    await page.goto(`${base}/metrics/explore?project=shop&range=1h&q=http_requests_total`);
    const code = page.locator('#metrics-filters select[data-label="code"]');
    await code.waitFor();
    assert.deepEqual(await code.locator('option').allTextContents(), ['any', '200', '500']);
    await page.locator('#metrics-latest tbody tr').nth(1).waitFor();
    await code.selectOption('500');
    await page.waitForFunction(() => decodeURIComponent(location.search).includes('code="500"'));
    assert.equal(await page.inputValue('#metrics-query'), 'http_requests_total{code="500"}');
    await page.waitForFunction(() => document.querySelectorAll('#metrics-latest tbody tr').length === 1);
    assert.match(await page.textContent('#metrics-latest tbody td'), /code="500"/);
    assert.equal(await code.inputValue(), '500');
    await code.selectOption('');
    await page.waitForFunction(() => !location.search.includes('code'));
    assert.equal(await page.inputValue('#metrics-query'), 'http_requests_total');
  });
});

test("Sightline's own metrics are there out of the box", async () => {
  const { page, problems } = await openPage();
  await withScreenshot('metrics-self', page, problems, async () => {
    await logIn(page, base, ADMIN, PASSWORD);
    const started = Date.now();
    for (;;) {
      await page.goto(`${base}/metrics/explore?project=sightline&range=1h&q=up`);
      await page.waitForSelector('#metrics-targets table, #metrics-targets .empty');
      const state = await page.locator('#metrics-targets tbody td .badge').allTextContents();
      if (state.includes('up')) break;
      assert.ok(Date.now() - started < 30_000, `the self-scrape target never came up: ${state}`);
      await page.waitForTimeout(1000);
    }
    await page.locator('#metrics-latest tbody tr').first().waitFor();
    const cells = await page.locator('#metrics-latest tbody td').allTextContents();
    assert.equal(cells[1], '1', `up is 1: ${cells}`);
  });
});

/** A free loopback port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

test('a node_exporter added in the form is scraped, queried and removed', async () => {
  const port = await freePort();
  const exporter = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`], {
    stdio: 'ignore',
  });
  const { page, problems } = await openPage();
  try {
    await withScreenshot('metrics-targets', page, problems, async () => {
      await logIn(page, base, ADMIN, PASSWORD);
      await page.goto(`${base}/metrics/explore?project=shop&range=15m&q=${encodeURIComponent('node_load1')}`);
      await page.waitForSelector('#target-form');
      // Credentials are asked for only when an auth kind is chosen.
      assert.equal(await page.isVisible('#target-user'), false);
      assert.equal(await page.isVisible('#target-secret'), false);
      await page.selectOption('#target-auth', 'bearer');
      assert.equal(await page.isVisible('#target-user'), false);
      assert.equal(await page.isVisible('#target-secret'), true);
      await page.selectOption('#target-auth', 'none');
      // Said in words when the URL is missing.
      await page.fill('#target-job', 'node');
      await page.click('#target-add');
      await page.waitForSelector('#metrics-targets .error');
      assert.match(await page.textContent('#metrics-targets .error'), /URL/);

      await page.fill('#target-url', `http://127.0.0.1:${port}/metrics`);
      await page.fill('#target-interval', '2');
      await page.fill('#target-labels', 'env=test');
      await page.click('#target-add');
      const row = page.locator('#metrics-targets-table tbody tr', { hasText: `127.0.0.1:${port}` });
      await row.waitFor();
      assert.equal(await page.inputValue('#target-url'), '', 'the form is cleared once added');
      const started = Date.now();
      for (;;) {
        await page.goto(`${base}/metrics/explore?project=shop&range=15m&q=${encodeURIComponent('node_load1')}`);
        await row.waitFor();
        const state = await row.locator('.badge').textContent();
        if (state === 'up') break;
        assert.ok(Date.now() - started < 30_000, `the node_exporter target never came up: ${state}`);
        await page.waitForTimeout(1000);
      }
      const cells = await row.locator('td').allTextContents();
      assert.equal(cells[0], 'node');
      assert.ok(Number(cells[5]) > 100, `samples scraped: ${cells}`);
      const latest = page.locator('#metrics-latest tbody tr').first();
      await latest.waitFor();
      const series = await latest.locator('td').first().textContent();
      assert.match(series, /env="test"/);
      assert.match(series, new RegExp(`instance="127.0.0.1:${port}"`));
      assert.match(series, /job="node"/);

      await page.screenshot({ path: 'artifacts/metrics-targets-desktop.png', fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: 'artifacts/metrics-targets-phone.png', fullPage: true });
      await page.setViewportSize({ width: 1280, height: 900 });

      await row.locator('button', { hasText: 'Remove' }).click();
      await row.waitFor({ state: 'detached' });
    });
  } finally {
    exporter.kill();
  }
});
