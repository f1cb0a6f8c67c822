// A small web app traced with @sentry/browser (the version pinned in
// package.json), bundled by esbuild and served from an origin of its own by
// sentry_browser.test.mjs. It reports to the DSN in `window.SIGHTLINE_DSN`:
// five "checkout" clicks (ui.action transactions of 100, 200, ..., 500 ms, the
// last one failing with an error captured inside it), then flushes and sets
// `window.sentryDone` to the trace ids.
import * as Sentry from '@sentry/browser';

Sentry.init({
  dsn: window.SIGHTLINE_DSN,
  tracesSampleRate: 1.0,
  release: 'web-shop@5.0.0',
  environment: 'production',
});

const traces = [];
const base = Date.now() / 1000 - 120;
for (let i = 1; i <= 5; i++) {
  Sentry.startNewTrace(() => {
    const start = base + i;
    const root = Sentry.startInactiveSpan({
      name: 'checkout click',
      op: 'ui.action.click',
      startTime: start,
      forceTransaction: true,
    });
    Sentry.withActiveSpan(root, () => {
      const call = Sentry.startInactiveSpan({ name: 'POST /api/orders', op: 'http.client', startTime: start + 0.01 });
      call.end(start + 0.05);
      if (i === 5) {
        root.setStatus({ code: 2, message: 'internal_error' });
        Sentry.captureException(new Error('payment form crashed'));
      }
    });
    root.end(start + 0.1 * i);
    traces.push(root.spanContext().traceId);
  });
}
Sentry.flush(10000).then((flushed) => {
  window.sentryDone = { flushed, sdk: Sentry.SDK_VERSION, traces };
});
