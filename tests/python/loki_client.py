"""Pushes a few log records to Sightline with python-logging-loki's LokiHandler.

Usage: loki_client.py <base url> <ingest key>

The handler posts Loki's JSON push format to <base url>/loki/api/v1/push with
basic auth ("sightline", key); its tags and `extra={"tags": ...}` become
stream labels, and it adds `severity` (the level name) and `logger`. The handler
swallows send errors (logging's handleError), so they are recorded here and the
script exits non-zero if any push failed. It prints one line per record sent.
"""

import logging
import sys

import logging_loki


class CheckedLokiHandler(logging_loki.LokiHandler):
    """A LokiHandler that remembers failed pushes instead of only printing them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.failures = []

    def handleError(self, record):  # noqa: N802 (logging's name)
        self.failures.append((record.getMessage(), sys.exc_info()[1]))
        super().handleError(record)


def main() -> int:
    url, key = sys.argv[1], sys.argv[2]
    handler = CheckedLokiHandler(
        url=url.rstrip("/") + "/loki/api/v1/push",
        tags={"application": "checkout", "env": "test"},
        auth=("sightline", key),
        version="1",
    )
    logger = logging.getLogger("shop.payments")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)

    logger.debug("cart loaded")
    logger.info("payment accepted", extra={"tags": {"order-id": "o-42"}})
    logger.warning("card expires soon")
    try:
        raise ValueError("gateway timeout")
    except ValueError:
        logger.error("payment failed: %s", "gateway timeout")
    logger.critical("ledger unreachable", extra={"tags": {"service": "ledger"}})
    print("sent 5")

    if handler.failures:
        for message, error in handler.failures:
            print(f"push failed for {message!r}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
