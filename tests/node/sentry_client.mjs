// Drives @sentry/node (the version pinned in package.json) against Sightline:
// ten `GET /checkout` transactions taking 100, 200, ..., 1000 ms (the 8th
// failed, with an error captured inside it), each with a child query, and
// four fast `GET /health` ones. Prints the SDK's version and the trace ids.
//
// Usage: node sentry_client.mjs <dsn>
import * as Sentry from "@sentry/node";

const dsn = process.argv[2];
Sentry.init({
  dsn,
  tracesSampleRate: 1.0,
  release: "node-shop@3.1.0",
  environment: "staging",
  // One message is dropped here, so that the SDK reports it (client report).
  beforeSend: (event) => (event.message === "drop me" ? null : event),
});

const base = Date.now() / 1000 - 600;
const traces = [];
for (let i = 1; i <= 10; i++) {
  // Each request of a server starts a trace of its own.
  Sentry.startNewTrace(() => {
    const start = base + i;
    const root = Sentry.startInactiveSpan({
      name: "GET /checkout",
      op: "http.server",
      startTime: start,
      forceTransaction: true,
    });
    Sentry.withActiveSpan(root, () => {
      const query = Sentry.startInactiveSpan({
        name: "select cart",
        op: "db",
        startTime: start + 0.01,
      });
      query.end(start + 0.02);
      if (i === 8) {
        root.setStatus({ code: 2, message: "internal_error" });
        Sentry.captureException(new Error("card declined"));
      }
    });
    root.end(start + 0.1 * i);
    traces.push(root.spanContext().traceId);
  });
}
for (let i = 0; i < 4; i++) {
  const start = base + 20 + i;
  const root = Sentry.startInactiveSpan({
    name: "GET /health",
    op: "http.server",
    startTime: start,
    forceTransaction: true,
  });
  root.end(start + 0.005);
}
Sentry.captureMessage("drop me");
const flushed = await Sentry.flush(10000);
const { SDK_VERSION } = Sentry;
console.log(JSON.stringify({ sdk: SDK_VERSION, flushed, trace_ids: traces }));
