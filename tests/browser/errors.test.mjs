// The Errors pages as a user meets them, in headless Chromium against a real
// server and a real PostgreSQL: errors sent through the Sentry store endpoint
// appear as issues with their counts; an issue shows its stack trace (the
// application frame open at its source line), tag bars, breadcrumbs and a link
// to the logs of its trace; Resolve takes it off the unresolved list; the other
// one is ignored in bulk; a viewer who tries to reopen an issue is told why not.
// On failure a screenshot is saved to tests/browser/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { startServer, launchChromium, hydrated, login as logIn } from './harness.mjs';

const EDITOR = 'editor@example.com';
const VIEWER = 'viewer@example.com';
const PASSWORD = 'a long passphrase';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

let server;
let browser;
let base;
let projectId;
let ingestKey;

/** Sends one event as a Sentry SDK's legacy store request would. */
async function store(event) {
  const r = await fetch(`${base}/api/${projectId}/store/`, {
    method: 'POST',
    headers: {
      'X-Sentry-Auth': `Sentry sentry_key=${ingestKey}, sentry_version=7, sentry_client=sightline-test/1.0`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify(event),
  });
  const body = await r.text();
  assert.equal(r.status, 200, `store answered ${r.status}: ${body}`);
}

/** A checkout failure in the application, raised under a library frame. */
function checkoutError(secondsAgo, userId) {
  const ts = Date.now() - secondsAgo * 1000;
  return {
    event_id: randomUUID().replaceAll('-', ''),
    timestamp: new Date(ts).toISOString(),
    platform: 'python',
    level: 'error',
    release: 'shop@1.4.2',
    environment: 'production',
    server_name: 'web-1',
    exception: {
      values: [{
        type: 'CheckoutError',
        value: 'no price for sku 42',
        module: 'shop.errors',
        mechanism: { type: 'generic', handled: false },
        stacktrace: {
          frames: [
            {
              function: 'get_response', module: 'django.core.handlers.base', lineno: 181, in_app: false,
              abs_path: '/usr/lib/python3/site-packages/django/core/handlers/base.py',
            },
            {
              function: 'checkout', module: 'shop.views', filename: 'shop/views.py', lineno: 42, in_app: true,
              pre_context: ['def checkout(request):', '    cart = load_cart(request)'],
              context_line: "    raise CheckoutError('no price for sku 42')",
              post_context: ['', 'def cart(request):'],
              vars: { sku: "'42'", cart: '<Cart 7>' },
            },
          ],
        },
      }],
    },
    breadcrumbs: {
      values: [
        // 98 page views before the two that led to the error: 100 in all.
        ...Array.from({ length: 98 }, (_, i) => ({
          timestamp: (ts - 100_000 + i * 1000) / 1000, category: 'navigation', data: { from: `/page/${i}`, to: `/page/${i + 1}` },
        })),
        { timestamp: (ts - 2000) / 1000, category: 'http', level: 'info', data: { url: '/api/prices', status_code: 500 } },
        { timestamp: new Date(ts - 1000).toISOString(), category: 'ui.click', message: 'button#pay' },
      ],
    },
    user: { id: userId, email: `${userId}@example.com`, ip_address: '10.0.0.7' },
    tags: { tenant: userId === 'u-1' ? 'acme' : 'globex' },
    contexts: {
      trace: { type: 'trace', trace_id: TRACE_ID, span_id: '00f067aa0ba902b7' },
      os: { type: 'os', name: 'Linux', version: '6.1' },
      runtime: { type: 'runtime', name: 'CPython', version: '3.12.1' },
    },
    request: { method: 'POST', url: 'https://shop.example/checkout', query_string: 'step=pay', headers: { 'User-Agent': 'Mozilla/5.0' } },
  };
}

/** A second, unrelated error. */
function cartError() {
  return {
    event_id: randomUUID().replaceAll('-', ''),
    timestamp: new Date(Date.now() - 30_000).toISOString(),
    platform: 'python',
    level: 'warning',
    release: 'shop@1.4.2',
    exception: {
      values: [{
        type: 'KeyError',
        value: "'coupon'",
        stacktrace: { frames: [{ function: 'apply_coupon', module: 'shop.cart', lineno: 7, in_app: true }] },
      }],
    },
  };
}

before(async () => {
  server = await startServer('sightline_errors_browser');
  base = server.base;
  const sightline = server.sightline;
  sightline(['user', 'create', '--email', EDITOR, '--role', 'editor', '--password-stdin'], `${PASSWORD}\n`);
  sightline(['user', 'create', '--email', VIEWER, '--role', 'viewer', '--password-stdin'], `${PASSWORD}\n`);
  const project = JSON.parse(sightline(['project', 'create', '--slug', 'shop', '--name', 'Shop', '--json']));
  projectId = project.project_id;
  ingestKey = project.ingest_key;
  assert.ok(projectId && ingestKey, 'project create prints the id and the ingest key');

  // Two occurrences of the checkout error from two users, one cart error.
  await store(checkoutError(600, 'u-1'));
  await store(checkoutError(120, 'u-2'));
  await store(cartError());
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

async function rowCount(page, count) {
  await page.waitForFunction((n) => document.querySelectorAll('tr.issue-row').length === n, count, { timeout: 15_000 });
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

test('an editor triages errors: list, stack trace, resolve, bulk ignore', async () => {
  const { page, problems } = await openPage();
  await withScreenshot('errors', page, problems, async () => {
    await login(page, EDITOR);

    // Both issues, with their events and users in the range.
    await page.goto(`${base}/errors?project=shop&range=1h`);
    await hydrated(page);
    await rowCount(page, 2);
    assert.equal(await page.title(), 'Errors · Shop · Sightline');
    const rows = await page.locator('tr.issue-row').evaluateAll((all) => all.map((r) => ({
      title: r.querySelector('.issue-title').textContent.trim(),
      count: r.querySelector('.issue-count').textContent.trim(),
      users: r.querySelector('.issue-users').textContent.trim(),
      // The status shows only where the filter (unresolved) does not say it.
      status: r.querySelector('.issue-status')?.textContent.trim() ?? '',
    })));
    const checkout = rows.find((r) => r.title.startsWith('CheckoutError'));
    const cart = rows.find((r) => r.title.startsWith('KeyError'));
    assert.deepEqual(checkout, { title: 'CheckoutError: no price for sku 42', count: '2', users: '2', status: '' });
    assert.equal(cart?.count, '1');
    assert.equal(await page.locator('tr.issue-row svg.sparkline').count(), 2);
    // A search narrows the list and lands in the URL.
    await page.fill('#issues-search', 'coupon');
    await page.press('#issues-search', 'Enter');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === 'coupon');
    await rowCount(page, 1);
    // A tag term keeps the issues with events tagged so, counting only those.
    await page.fill('#issues-search', 'tenant:acme');
    await page.press('#issues-search', 'Enter');
    await page.waitForFunction(() => document.querySelector('tr.issue-row .issue-title')?.textContent.includes('CheckoutError'));
    await rowCount(page, 1);
    assert.equal((await page.textContent('tr.issue-row .issue-count')).trim(), '1');
    await page.fill('#issues-search', '');
    await page.click('#issues-apply');
    await rowCount(page, 2);
    // Release health lists the release with the issues it brought.
    const release = page.locator('.release-table tr.release-row', { hasText: 'shop@1.4.2' });
    await release.waitFor({ timeout: 10_000 });
    assert.equal((await release.locator('.release-issues').textContent()).trim(), '2');

    // The checkout issue: the application frame open at the line that raised.
    await page.locator('a.issue-title', { hasText: 'CheckoutError' }).click();
    await page.waitForURL(/\/errors\/\d+/);
    await page.waitForFunction(() => document.querySelector('h1')?.textContent.includes('CheckoutError'));
    const current = page.locator('.frame.in-app .source-line.current');
    await current.waitFor({ timeout: 15_000 });
    assert.match(await current.textContent(), /42.*raise CheckoutError\('no price for sku 42'\)/);
    assert.match(await page.textContent('.frame.in-app .frame-head'), /checkout in shop\.views:42/);
    assert.equal(await page.locator('.frame-folded').count(), 1, 'the library frame is folded');
    assert.match(await page.textContent('.exception-mechanism'), /unhandled/);
    assert.equal((await page.textContent('#issue-count')).trim(), '2');
    // Tags with bars: two tenants, half each.
    const tenant = page.locator('.tag-summary[data-tag="tenant"]');
    assert.equal(await tenant.locator('.tag-value').count(), 2);
    assert.match(await tenant.textContent(), /acme.*50 %/);
    assert.equal(await tenant.locator('.share-bar-fill').first().getAttribute('style'), 'width: 50%');
    // Each value links to the issues with events of it.
    assert.equal(
      await tenant.locator('a.tag-value-name', { hasText: 'acme' }).getAttribute('href'),
      '/errors?project=shop&status=all&q=tenant%3Aacme',
    );
    // Breadcrumbs, contexts, request and user of the latest event.
    assert.match(await page.textContent('#event-breadcrumbs'), /ui\.click.*button#pay/s);
    assert.match(await page.textContent('#event-breadcrumbs'), /status_code: 500/);
    // The last 10 before the error; the other 90 a click away.
    assert.equal(await page.locator('#event-breadcrumbs tr.breadcrumb').count(), 10);
    assert.match(await page.textContent('#event-breadcrumbs tr.breadcrumb'), /\/page\/90.*\/page\/91/);
    assert.equal((await page.textContent('#breadcrumbs-show-all')).trim(), 'Show all 100 breadcrumbs (90 older)');
    await page.click('#breadcrumbs-show-all');
    assert.equal(await page.locator('#event-breadcrumbs tr.breadcrumb').count(), 100);
    assert.equal(await page.locator('#breadcrumbs-show-all').count(), 0);
    assert.match(await page.textContent('#event-contexts'), /CPython/);
    assert.match(await page.textContent('#event-request'), /POST https:\/\/shop\.example\/checkout/);
    assert.match(await page.textContent('#event-user'), /u-2@example\.com/);
    // The events chart draws.
    await page.waitForSelector('.issue-chart canvas', { timeout: 10_000 });

    // Correlation: the logs of the trace, in the hour around the event.
    const logs = new URL(await page.getAttribute('#event-trace-logs', 'href'), base);
    assert.equal(logs.pathname, '/logs');
    assert.equal(logs.searchParams.get('q'), `trace_id:${TRACE_ID}`);
    assert.equal(logs.searchParams.get('project'), 'shop');
    assert.ok(logs.searchParams.get('from') && logs.searchParams.get('to'));
    assert.equal(await page.getAttribute('#event-trace', 'href'), `/performance/traces/${TRACE_ID}?project=shop`);
    // The Logs page reads the link: the query and the custom range are in place.
    await page.click('#event-trace-logs');
    await page.waitForURL(/\/logs\?/);
    await page.waitForFunction((q) => document.querySelector('#logs-query')?.value === q, `trace_id:${TRACE_ID}`, { timeout: 10_000 });
    assert.equal(await page.inputValue('#time-range-select'), 'custom');
    await page.goBack();
    await page.waitForSelector('.frame.in-app .source-line.current', { timeout: 15_000 });

    // Older and newer events of the issue.
    await page.click('#event-oldest');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('event'));
    await page.waitForFunction(() => document.querySelector('#event-user')?.textContent.includes('u-1@example.com'));
    assert.equal(await page.isDisabled('#event-previous'), true);
    await page.click('#event-next');
    await page.waitForFunction(() => document.querySelector('#event-user')?.textContent.includes('u-2@example.com'));

    // Resolve: the status says so, and the activity records who did it.
    await page.click('#issue-resolve');
    await page.waitForFunction(() => document.querySelector('.issue-subtitle .issue-status')?.textContent.trim() === 'resolved');
    await page.waitForSelector('#issue-reopen');
    assert.match(await page.textContent('.activity-list'), new RegExp(`Resolved by ${EDITOR}`));
    // Reopen, ignore it for an hour, then resolve it for good.
    await page.click('#issue-reopen');
    await page.waitForFunction(() => document.querySelector('.issue-subtitle .issue-status')?.textContent.trim() === 'unresolved');
    await page.click('#issue-ignore');
    await page.locator('#issue-ignore-menu button', { hasText: 'For 1 hour' }).click();
    await page.waitForFunction(() => document.querySelector('.issue-subtitle .issue-status')?.textContent.trim() === 'ignored');
    assert.match(await page.textContent('.issue-state'), /Ignored until \d{4}-\d\d-\d\d/);
    await page.click('#issue-resolve');
    await page.waitForFunction(() => document.querySelector('.issue-subtitle .issue-status')?.textContent.trim() === 'resolved');

    // Back on the unresolved list only the cart issue is left; ignore it in bulk.
    await page.goto(`${base}/errors?project=shop&range=1h&status=unresolved`);
    await hydrated(page);
    await rowCount(page, 1);
    assert.match(await page.textContent('tr.issue-row .issue-title'), /KeyError/);
    await page.check('tr.issue-row .issue-select');
    await page.click('#issues-bulk-ignore');
    await page.waitForFunction(() => document.querySelector('.issue-list .notice')?.textContent.includes('Ignored 1 issue.'));
    await rowCount(page, 0);
    assert.match(await page.textContent('.issue-list .empty'), /No issues match these filters|No issues in this range/);
    // Ignored issues are one select away, and the URL says so.
    await page.selectOption('#issues-status', 'ignored');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('status') === 'ignored');
    await rowCount(page, 1);
    assert.equal(await page.locator('tr.issue-row .issue-status').count(), 0, 'the filter says ignored');
    // Every status: each row says which.
    await page.selectOption('#issues-status', 'all');
    await page.waitForFunction(() => document.querySelectorAll('tr.issue-row .issue-status').length === 2);
    const statuses = await page.locator('tr.issue-row .issue-status').allTextContents();
    assert.deepEqual(statuses.map((s) => s.trim()).sort(), ['ignored', 'resolved']);
    // The title reads as text (not an accent-coloured link) with the culprit below.
    const title = page.locator('tr.issue-row a.issue-title').first();
    const colours = await title.evaluate((a) => [getComputedStyle(a).color, getComputedStyle(document.body).color]);
    assert.equal(colours[0], colours[1]);
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/issues-desktop.png', fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    await page.screenshot({ path: 'artifacts/issues-phone.png', fullPage: true });
    // At phone width nothing scrolls sideways but the table inside its card,
    // and the sidebar is a menu that closes once a link is followed.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scroll');
    assert.equal(await page.isVisible('nav.sidebar'), false);
    await page.click('#menu-button');
    assert.equal(await page.getAttribute('#menu-button', 'aria-expanded'), 'true');
    await page.locator('nav.sidebar a', { hasText: 'Logs' }).click();
    await page.waitForURL(/\/logs\?/);
    await page.waitForFunction(() => document.querySelector('#menu-button')?.getAttribute('aria-expanded') === 'false');
    assert.equal(await page.isVisible('nav.sidebar'), false);
  });
});

test('a viewer is shown why they cannot change an issue', async () => {
  // The refused change answers 403 on purpose; the browser logs that.
  const { page, problems } = await openPage(/favicon|status of 403/);
  await withScreenshot('errors-viewer', page, problems, async () => {
    await login(page, VIEWER);
    await page.goto(`${base}/errors?project=shop&range=1h&status=all`);
    await hydrated(page);
    await rowCount(page, 2);
    await page.locator('a.issue-title', { hasText: 'KeyError' }).click();
    // What a viewer may not do is not offered: disabled, with the reason.
    const why = 'Changing an issue needs the editor role; you are viewer';
    await page.waitForSelector('#issue-reopen', { timeout: 15_000 });
    await page.waitForFunction(() => document.querySelector('#issue-reopen')?.disabled === true);
    assert.equal(await page.getAttribute('#issue-reopen', 'title'), why);
    assert.equal(await page.locator('#issue-resolve').isDisabled(), true);
    assert.match(await page.textContent('.issue-permission'), new RegExp(why));
    // The same on the list's bulk actions.
    await page.goBack();
    await rowCount(page, 2);
    await page.waitForFunction(() => document.querySelector('#issues-bulk-resolve')?.title === 'Changing issues needs the editor role; you are viewer');
  });
});
