// The Logs page as a user meets it, in headless Chromium against a real server and
// a real PostgreSQL: lines sent through the ingest API appear, a search finds one
// line, its details expand and a value becomes a filter, a `| stats` query shows a
// table, live tail shows a line sent afterwards, and a bad query is pointed out.
// On failure a screenshot is saved to tests/browser/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startServer, launchChromium, hydrated, login } from './harness.mjs';

const EMAIL = 'admin@example.com';
const PASSWORD = 'a long passphrase';

let server;
let browser;
let base;
let ingestKey;

/** Sends log lines through the native ingest endpoint. */
async function ingest(lines) {
  const r = await fetch(`${base}/api/v1/ingest/logs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ingestKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(lines),
  });
  const body = await r.text();
  assert.equal(r.status, 200, `ingest answered ${r.status}: ${body}`);
  assert.equal(JSON.parse(body).accepted, lines.length);
}

before(async () => {
  server = await startServer('sightline_logs_browser');
  base = server.base;
  const sightline = server.sightline;

  // The server has migrated the database: add the admin and the project.
  sightline(['user', 'create', '--email', EMAIL, '--role', 'admin', '--password-stdin'], `${PASSWORD}\n`);
  ingestKey = JSON.parse(sightline(['project', 'create', '--slug', 'web', '--name', 'Web', '--json'])).ingest_key;
  assert.ok(ingestKey, 'project create prints the ingest key');

  // 30 lines over the last 45 minutes: levels, services and hosts mixed, one with
  // a word no other line has.
  const levels = ['info', 'info', 'warn', 'error', 'debug'];
  const services = ['api', 'web', 'worker'];
  const now = Date.now();
  const lines = Array.from({ length: 29 }, (_, i) => ({
    ts: new Date(now - (i + 1) * 90_000).toISOString(),
    level: levels[i % levels.length],
    service: services[i % services.length],
    host: `web-${(i % 2) + 1}`,
    message: `request ${i} handled in ${10 + i} ms`,
    http: { status: i % 7 === 0 ? 500 : 200 },
  }));
  lines.push({
    ts: new Date(now - 20 * 60_000 - 500).toISOString(),
    level: 'error',
    service: 'checkout',
    host: 'pay-7',
    message: 'payment refused by zanzibar gateway',
    user: { id: 'u-42' },
  });
  await ingest(lines);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.stop();
});


async function rowCount(page, count) {
  await page.waitForFunction((n) => document.querySelectorAll('tr.log-row').length === n, count, { timeout: 15_000 });
}

async function runQuery(page, q) {
  await page.fill('#logs-query', q);
  await page.click('#logs-run');
}

test('a user searches, filters, aggregates and tails logs', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // The refused query answers 400 on purpose; the browser logs that.
    if (m.type() === 'error' && !/favicon|status of 40[01]/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  try {
    await login(page, base, EMAIL, PASSWORD);

    // Every line of the last hour, and the histogram above them.
    await page.goto(`${base}/logs?project=web&range=1h`);
    await hydrated(page);
    await rowCount(page, 30);
    await page.waitForSelector('.logs-histogram canvas', { timeout: 10_000 });
    const legend = await page.textContent('.logs-histogram .chart-legend');
    for (const level of ['debug', 'info', 'warn', 'error']) assert.match(legend, new RegExp(level));

    // A search for the distinctive word (Enter runs it) finds exactly that line,
    // and the URL holds the query.
    await page.fill('#logs-query', 'zanzibar');
    await page.press('#logs-query', 'Enter');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === 'zanzibar');
    await rowCount(page, 1);
    const row = page.locator('tr.log-row').first();
    assert.match(await row.textContent(), /payment refused by zanzibar gateway/);
    assert.match(await row.locator('.log-level').textContent(), /error/);

    // Expanded, the line shows all its fields; clicking a value filters on it.
    await row.click();
    const detail = page.locator('.log-detail .json-view');
    await detail.waitFor({ timeout: 5_000 });
    assert.match(await detail.textContent(), /"user": \{/);
    await detail.locator('.json-value', { hasText: '"u-42"' }).click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === 'zanzibar user.id:u-42');
    assert.equal(await page.inputValue('#logs-query'), 'zanzibar user.id:u-42');
    await rowCount(page, 1);

    // Show context lists the line among its neighbours from the same service and host.
    await page.locator('tr.log-row').first().click();
    await page.click('.log-context-button');
    await page.waitForSelector('.log-context-line.current', { timeout: 10_000 });

    // The recent-queries menu remembers what was run.
    await page.click('#logs-history');
    assert.match(await page.textContent('.logs-menu'), /zanzibar user\.id:u-42/);
    await page.click('#logs-history');

    // A query with stages shows a table: errors are 6 of the 29 plus the zanzibar line.
    await runQuery(page, '| stats count() by level');
    const stats = page.locator('table.log-stats');
    await stats.waitFor({ timeout: 15_000 });
    const cells = await stats.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim())));
    assert.deepEqual(cells.find((c) => c[0] === 'error'), ['error', '7']);
    assert.equal(cells.reduce((sum, c) => sum + Number(c[1]), 0), 30);

    // Live tail: a line sent now appears at the top within 5 seconds.
    await runQuery(page, '');
    await rowCount(page, 30);
    await page.click('#logs-live');
    await page.waitForSelector('.logs-live-status.live', { timeout: 10_000 });
    await ingest([{ level: 'warn', service: 'api', host: 'web-1', message: 'xyzzy arrived while tailing' }]);
    await page.waitForFunction(
      () => document.querySelector('tr.log-row')?.textContent.includes('xyzzy arrived while tailing'),
      null,
      { timeout: 5_000 },
    );
    await rowCount(page, 31);
    await page.click('#logs-live-pause');
    await page.waitForFunction(() => document.querySelector('#logs-live-pause')?.textContent.trim() === 'Resume');
    await page.click('#logs-live');

    // A query the server cannot read is pointed out under the query bar.
    await runQuery(page, 'service:');
    const error = page.locator('.query-error');
    await error.waitFor({ timeout: 10_000 });
    assert.match(await error.textContent(), /expected a value after "service:"/);
    assert.equal(await page.locator('.query-error-mark').count(), 1);
    assert.equal(await page.getAttribute('#logs-query', 'aria-invalid'), 'true');

    // Dragging across the histogram zooms the page into that stretch of time.
    await runQuery(page, '');
    const canvas = page.locator('.logs-histogram canvas');
    await canvas.waitFor({ timeout: 10_000 });
    const box = await canvas.boundingBox();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => {
      const p = new URL(location.href).searchParams;
      return p.get('from') && p.get('to') && !p.get('range');
    });
    assert.equal(await page.inputValue('#time-range-select'), 'custom');

    assert.deepEqual(problems, []);
  } catch (error) {
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/logs-failure.png', fullPage: true }).catch(() => {});
    console.error(`screenshot: tests/browser/artifacts/logs-failure.png; page errors: ${problems.join('\n')}\nserver log tail:\n${server.logTail()}`);
    throw error;
  } finally {
    await page.close();
  }
});

test('a long result is read a page at a time', async () => {
  // 130 lines of one service: a page of 100, then the 30 older ones.
  const now = Date.now();
  await ingest(Array.from({ length: 130 }, (_, i) => ({
    ts: new Date(now - (i + 1) * 10_000).toISOString(),
    service: 'pager',
    message: `page line ${i}`,
  })));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    await login(page, base, EMAIL, PASSWORD);
    await page.goto(`${base}/logs?project=web&range=1h&q=service%3Apager`);
    await hydrated(page);
    await rowCount(page, 100);
    assert.match(await page.textContent('.logs-summary'), /100 lines, newest first, older ones below/);
    await page.click('#logs-older');
    await rowCount(page, 130);
    await page.waitForFunction(() => !document.querySelector('#logs-older'));
    assert.match(await page.textContent('.logs-summary'), /^130 lines, newest first$/);
    // The oldest line is last.
    assert.match(await page.locator('tr.log-row').last().textContent(), /page line 129/);
  } catch (error) {
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/logs-paging-failure.png', fullPage: true }).catch(() => {});
    throw error;
  } finally {
    await page.close();
  }
});
