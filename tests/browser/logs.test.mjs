// The Logs page as a user meets it, in headless Chromium against a real server and
// a real PostgreSQL: lines sent through the ingest API appear with their exact
// time in the browser's zone (or UTC), a search finds one line, its details
// expand into a field table whose values become filters, a stack trace reads as
// lines, a `| stats` query shows a table, live tail shows a line sent afterwards,
// and a bad query is pointed out.
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
/** When the zanzibar line happened (ms). */
let zanzibarTs;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
/** A Rust-style panic with a 19-line backtrace: 20 lines in all. */
const STACK = ['thread main panicked at jobs.rs:17: index out of bounds']
  .concat(Array.from({ length: 19 }, (_, i) => `  ${i}: sightline_jobs::step_${i} at src/jobs.rs:${100 + i}`))
  .join('\n');

/** `ts` as a row shows it, `Dec 04 05:03:12.345`, in `timeZone`. */
function exactTime(ts, timeZone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone, month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    hourCycle: 'h23', fractionalSecondDigits: 3,
  }).formatToParts(new Date(ts)).map((p) => [p.type, p.value]));
  return `${parts.month} ${parts.day} ${parts.hour}:${parts.minute}:${parts.second}.${parts.fractionalSecond}`;
}

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
  zanzibarTs = now - 20 * 60_000 - 500;
  lines.push({
    ts: new Date(zanzibarTs).toISOString(),
    level: 'error',
    service: 'checkout',
    host: 'pay-7',
    message: 'payment refused by zanzibar gateway',
    user: { id: 'u-42' },
  });
  lines.push({
    ts: new Date(now - 30 * 60_000).toISOString(),
    level: 'warn',
    service: 'jobs',
    host: 'worker-3',
    message: STACK,
    trace_id: TRACE_ID,
    span_id: SPAN_ID,
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
  // A browser in Berlin: times show in its zone until the user switches to UTC.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Europe/Berlin' });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // The refused query answers 400 on purpose; the browser logs that.
    if (m.type() === 'error' && !/favicon|status of 40[01]/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  try {
    await login(page, base, EMAIL, PASSWORD);

    // The Overview of the project over the range: its log volume drawn, the
    // other panels saying they have nothing, each linking into its page.
    await page.goto(`${base}/?project=web&range=1h`);
    await hydrated(page);
    await page.waitForSelector('#overview-logs canvas', { timeout: 15_000 });
    assert.equal(await page.getAttribute('#overview-logs .panel-link', 'href'), '/logs?project=web&range=1h');
    await page.waitForFunction(() => document.querySelector('#overview-errors')?.textContent.includes('No data in this range'));
    assert.equal(await page.title(), 'Overview · Web · Sightline');
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/overview-desktop.png', fullPage: true });

    // Every line of the last hour, and the histogram above them.
    await page.goto(`${base}/logs?project=web&range=1h`);
    await hydrated(page);
    await rowCount(page, 31);
    await page.waitForSelector('.logs-histogram canvas', { timeout: 10_000 });
    const legend = await page.textContent('.logs-histogram .chart-legend');
    for (const level of ['debug', 'info', 'warn', 'error']) assert.match(legend, new RegExp(level));

    // Beside the lines, their fields with the share of lines that have each;
    // opened, a field's top values, + on one filters on it.
    const levelField = page.locator('.log-field-item[data-field="level"]');
    assert.equal((await levelField.locator('.log-field-share').textContent()).trim(), '100 %');
    await page.click('.log-field-item[data-field="host"] .log-field-toggle');
    const hosts = page.locator('.log-field-item[data-field="host"] .log-field-value-row');
    await hosts.first().waitFor({ timeout: 5_000 });
    // web-1 has 15 of the 31 lines, web-2 14, pay-7 and worker-3 one each.
    assert.match(await hosts.first().textContent(), /^web-1\s*48 %/);
    assert.equal(await hosts.count(), 4);
    await page.click('.log-field-item[data-field="host"] button[title="Show only lines with host:pay-7"]');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === 'host:pay-7');
    await rowCount(page, 1);

    // A search for the distinctive word (Enter runs it) finds exactly that line,
    // and the URL holds the query.
    await page.fill('#logs-query', 'zanzibar');
    await page.press('#logs-query', 'Enter');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === 'zanzibar');
    await rowCount(page, 1);
    const row = page.locator('tr.log-row').first();
    assert.match(await row.textContent(), /payment refused by zanzibar gateway/);
    assert.match(await row.locator('.log-level').textContent(), /error/);

    // The row says when, to the millisecond, in Berlin time; the heading names
    // the zone and switches to UTC, which the next visit remembers.
    const time = row.locator('.log-time time');
    assert.equal((await time.textContent()).trim(), exactTime(zanzibarTs, 'Europe/Berlin'));
    assert.match(await time.getAttribute('title'), /min ago/);
    assert.match(await page.textContent('.log-zone-toggle'), /UTC\+0[12]:00/);
    await page.click('.log-zone-toggle');
    await page.waitForFunction(() => document.querySelector('.log-zone')?.textContent.trim() === 'UTC');
    assert.equal((await time.textContent()).trim(), exactTime(zanzibarTs, 'UTC'));

    // Expanded, the line is a table of its fields; + on a value filters on it.
    await row.click();
    const fields = page.locator('.log-detail table.log-fields');
    await fields.waitFor({ timeout: 5_000 });
    const names = await fields.locator('th.log-field-name').allTextContents();
    assert.deepEqual(names, ['level', 'service', 'host', 'message', 'user.id']);
    // The raw JSON is one click away.
    await page.click('.log-raw-button');
    assert.match(await page.textContent('.log-detail .json-view'), /"user": \{/);
    await page.click('.log-raw-button');
    // The user id links to that user's errors.
    assert.equal(
      await fields.locator('tr[data-field="user.id"] a').getAttribute('href'),
      '/errors?project=web&status=all&q=user.id%3Au-42',
    );
    await fields.locator('tr[data-field="user.id"] button[title="Show only lines with user.id:u-42"]').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === 'zanzibar user.id:u-42');
    assert.equal(await page.inputValue('#logs-query'), 'zanzibar user.id:u-42');
    await rowCount(page, 1);

    // A reload keeps UTC (the choice is this browser's).
    await page.reload();
    await hydrated(page);
    await rowCount(page, 1);
    await page.waitForFunction(() => document.querySelector('.log-zone')?.textContent.trim() === 'UTC');
    assert.equal((await page.locator('tr.log-row .log-time time').textContent()).trim(), exactTime(zanzibarTs, 'UTC'));

    // A stack trace is a row with its first line and how many follow; expanded,
    // its lines (the first 12, then all of them), with links to its trace and span.
    await runQuery(page, 'service:jobs');
    await rowCount(page, 1);
    const panic = page.locator('tr.log-row').first();
    assert.match(await panic.locator('.log-message').textContent(), /^thread main panicked at jobs\.rs:17: index out of bounds\s*\+19 lines$/);
    await panic.click();
    const lines = page.locator('.log-detail tr[data-field="message"] pre.log-field-lines');
    await lines.waitFor({ timeout: 5_000 });
    assert.equal((await lines.textContent()).split('\n').length, 12);
    await page.click('.log-detail .log-show-lines');
    assert.equal(await lines.textContent(), STACK);
    assert.equal(
      await page.getAttribute('.log-detail tr[data-field="trace_id"] a', 'href'),
      `/performance/traces/${TRACE_ID}?project=web`,
    );
    assert.equal(
      await page.getAttribute('.log-detail tr[data-field="span_id"] a', 'href'),
      `/performance/traces/${TRACE_ID}?project=web&span=${SPAN_ID}`,
    );
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/logs-stack-trace-desktop.png', fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    await page.screenshot({ path: 'artifacts/logs-stack-trace-phone.png', fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    // − on a value hides the lines with it.
    await page.locator('.log-detail tr[data-field="host"] button[title="Hide lines with -host:worker-3"]').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === 'service:jobs -host:worker-3');
    await page.getByText('No lines match in this range').first().waitFor({ timeout: 10_000 });
    await runQuery(page, 'zanzibar user.id:u-42');
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
    assert.equal(cells.reduce((sum, c) => sum + Number(c[1]), 0), 31);

    // Split over time, the answer is pivoted: a row per 5 minutes, a column
    // per service (in its line's colour); the long form is a toggle away.
    await runQuery(page, '| stats count() by service every 5m');
    const pivot = page.locator('table.log-stats-pivot');
    await pivot.waitFor({ timeout: 15_000 });
    const heads = (await pivot.locator('thead th').allTextContents()).map((h) => h.trim());
    assert.equal(heads[0], 'Time');
    assert.deepEqual(heads.slice(1).sort(), ['api', 'checkout', 'jobs', 'web', 'worker']);
    assert.equal(heads[1], 'api', 'the largest group first');
    assert.equal(await pivot.locator('thead th .swatch').count(), 5);
    const pivotTotal = await pivot.locator('tbody td').evaluateAll((tds) => tds.reduce((sum, td) => sum + (Number(td.textContent) || 0), 0));
    assert.equal(pivotTotal, 31);
    await page.click('#stats-long-form');
    await page.waitForFunction(() => !document.querySelector('table.log-stats-pivot') && document.querySelector('table.log-stats'));
    assert.deepEqual((await page.locator('table.log-stats thead th').allTextContents()).map((h) => h.trim()), ['ts', 'service', 'count()']);
    await page.screenshot({ path: 'artifacts/logs-stats-desktop.png', fullPage: true });

    // Live tail: a line sent now appears at the top within 5 seconds.
    await runQuery(page, '');
    await rowCount(page, 31);
    await page.click('#logs-live');
    await page.waitForSelector('.logs-live-status.live', { timeout: 10_000 });
    await ingest([{ level: 'warn', service: 'api', host: 'web-1', message: 'xyzzy arrived while tailing' }]);
    await page.waitForFunction(
      () => document.querySelector('tr.log-row')?.textContent.includes('xyzzy arrived while tailing'),
      null,
      { timeout: 5_000 },
    );
    await rowCount(page, 32);
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
    await context.close();
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
