"""Reports errors, a message and a log to Sightline with the Python Sentry SDK
(sentry-sdk 2.x), as an application would. Usage:
sentry_client.py <dsn> <gzip|br> <release>.

The same error is raised in one function reached from two call sites (one issue,
two events), a warning message is captured, and a chained exception is raised
(`raise ... from ...`). Prints {"compression": "<algorithm the transport used>",
"events": ["<event id>", ...]} in capture order."""

import json
import sys

import sentry_sdk

dsn, compression, release = sys.argv[1], sys.argv[2], sys.argv[3]
sentry_sdk.init(
    dsn=dsn,
    release=release,
    environment="test",
    enable_logs=True,
    # Force the algorithm: without it the SDK picks br whenever `brotli` is
    # installed, and gzip otherwise.
    _experiments={"transport_compression_algo": compression},
)
sentry_sdk.set_user({"id": "user-42", "email": "ada@example.com"})
sentry_sdk.set_tag("tenant", "acme")

events = []


def load_cart(cart_id):
    carts = {}
    return carts["cart-%d" % cart_id]


def checkout():
    try:
        load_cart(1)
    except KeyError:
        events.append(sentry_sdk.capture_exception())


def reorder():
    try:
        load_cart(2)
    except KeyError:
        events.append(sentry_sdk.capture_exception())


def parse_order(raw):
    try:
        return int(raw)
    except ValueError as cause:
        raise RuntimeError("order id is not a number") from cause


checkout()
reorder()
events.append(sentry_sdk.capture_message("payment provider is slow", level="warning"))
try:
    parse_order("abc")
except RuntimeError:
    events.append(sentry_sdk.capture_exception())
sentry_sdk.logger.warning("cart {cart} abandoned", cart=7)

sentry_sdk.flush(timeout=10)
transport = sentry_sdk.get_client().transport
print(json.dumps({"compression": transport._compression_algo, "events": events}))
