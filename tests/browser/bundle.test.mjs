// What the first page costs a browser: the shell, the CSS and the WASM bundle
// as the server sends them (precompressed, named after their content, cached
// for a year), the bytes transferred and the time to the first drawn page and
// to hydration. The figures are printed for the README (docs: "Bundle size").

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchChromium, hydrated } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer('sightline_bundle');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

/** Loads the first page a visitor sees (first-admin setup) and measures it. */
async function firstPage(context, throttle) {
  const page = await context.newPage();
  if (throttle) {
    const cdp = await context.newCDPSession(page);
    // A good 10 Mbit/s connection, 40 ms away.
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 40, downloadThroughput: 1.25e6, uploadThroughput: 6.25e5,
    });
  }
  await page.goto(`${server.base}/setup`);
  await hydrated(page);
  const figures = await page.evaluate(() => {
    const entries = [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')];
    return {
      firstPaintMs: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
      hydratedMs: performance.now(),
      transferred: entries.reduce((sum, e) => sum + e.transferSize, 0),
      raw: entries.reduce((sum, e) => sum + e.decodedBodySize, 0),
      files: entries.map((e) => [new URL(e.name).pathname, e.transferSize, e.decodedBodySize]),
    };
  });
  await page.close();
  return figures;
}

test('the first page downloads under 1 MB, precompressed and cached for good', async () => {
  const html = await (await fetch(`${server.base}/setup`)).text();
  const wasm = html.match(/\/pkg\/sightline\.([0-9a-f]{16})\.wasm/);
  const css = html.match(/\/pkg\/sightline\.([0-9a-f]{16})\.css/);
  assert.ok(wasm && css, `the page names the bundle by its content: ${html.slice(0, 2000)}`);

  const url = `${server.base}${wasm[0]}`;
  const br = await fetch(url, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
  assert.equal(br.status, 200);
  assert.equal(br.headers.get('content-encoding'), 'br');
  assert.equal(br.headers.get('content-type'), 'application/wasm');
  assert.equal(br.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.match(br.headers.get('vary') ?? '', /accept-encoding/i);
  const gzip = await fetch(url, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(gzip.headers.get('content-encoding'), 'gzip');

  const context = await browser.newContext();
  const local = await firstPage(context, false);
  const throttled = await firstPage(await browser.newContext(), true);
  console.log(`first page, loopback: ${JSON.stringify(local)}`);
  console.log(`first page, 10 Mbit/s at 40 ms: ${JSON.stringify(throttled)}`);
  assert.ok(local.transferred < 1_000_000, `transferred ${local.transferred} bytes`);
  // A second visit takes the bundle from the cache: only the page itself moves.
  const again = await context.newPage();
  await again.goto(`${server.base}/setup`);
  await hydrated(again);
  const moved = await again.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('/pkg/') && e.transferSize > 0).map((e) => e.name));
  assert.deepEqual(moved, [], 'hashed files come from the cache');
  await context.close();
});
