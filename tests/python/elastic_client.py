"""Drives Sightline's Elasticsearch compatibility with the official Python client.

Usage: elastic_client.py <base-url> <ingest-key>

Authenticates with the ingest key as the basic-auth password, performs the
handshake (`es.info()`, cluster health), then sends 100 log documents with
`helpers.bulk` (ECS fields nested and flat, several indices, chunks of 40) and
prints one JSON object: the announced version, the health status, and the
`(success, errors)` result of the bulk.
"""

import json
import sys

from elasticsearch import Elasticsearch, helpers

LEVELS = ["info", "warn", "error", "debug"]


def documents():
    for i in range(100):
        doc = {
            "_index": "py-logs" if i % 3 else "py-audit",
            "@timestamp": f"2026-11-26T10:{i // 60:02d}:{i % 60:02d}.{i:03d}Z",
            "message": f"python message {i}",
            "order": {"id": i},
        }
        if i % 2:
            # Flat dotted keys, as some shippers write ECS.
            doc["log.level"] = LEVELS[i % 4]
            doc["service.name"] = "checkout"
        else:
            doc["log"] = {"level": LEVELS[i % 4], "logger": "shop.orders"}
            doc["service"] = {"name": "checkout", "version": "1.4.2"}
            doc["host"] = {"name": "web-1"}
        yield doc


def main():
    url, key = sys.argv[1], sys.argv[2]
    es = Elasticsearch(url, basic_auth=("sightline", key), request_timeout=30)
    info = es.info()
    health = es.cluster.health()
    success, errors = helpers.bulk(es, documents(), chunk_size=40)
    print(
        json.dumps(
            {
                "version": info["version"]["number"],
                "health": health["status"],
                "success": success,
                "errors": errors,
            }
        )
    )


if __name__ == "__main__":
    main()
