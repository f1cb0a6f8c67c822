//! Loki's protobuf push body: `logproto.PushRequest`, snappy-compressed in the
//! *block* format (not the framed one), as Promtail, Alloy and the Grafana
//! agents send it. The messages are written by hand with prost's derive (no
//! `.proto` compilation); fields Sightline does not need are skipped.
//!
//! The two outer levels (request → streams → entries) are walked by hand rather
//! than decoded in one go, so the entry limit is enforced while reading: tiny
//! empty messages cannot be made to take memory out of proportion to the body.

use prost::Message;

use super::{
    entry::{from_proto, StreamFields},
    labels, shorten, PushError, PushOutcome,
};
use crate::{
    ingest::protowire::{self, Field, SnappyError, Wire},
    logs::record::RecordError,
};

/// `logproto.PushRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PushRequest {
    #[prost(message, repeated, tag = "1")]
    pub streams: Vec<StreamAdapter>,
}

/// `logproto.StreamAdapter`: one label set and its entries.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamAdapter {
    /// The label set in selector syntax: `{app="api", env="prod"}`.
    #[prost(string, tag = "1")]
    pub labels: String,
    #[prost(message, repeated, tag = "2")]
    pub entries: Vec<EntryAdapter>,
    /// The labels' hash (ignored: Sightline keys nothing by it).
    #[prost(uint64, tag = "3")]
    pub hash: u64,
}

/// `logproto.EntryAdapter`: one log line.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EntryAdapter {
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<Timestamp>,
    #[prost(string, tag = "2")]
    pub line: String,
    #[prost(message, repeated, tag = "3")]
    pub structured_metadata: Vec<LabelPairAdapter>,
}

/// `logproto.LabelPairAdapter`: one structured-metadata pair.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LabelPairAdapter {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// Decompresses a snappy block of at most `max_decoded` bytes and decodes the
/// push request in it, refusing more than `max_entries` entries. The
/// decompressed size is read from the block's header and checked before any
/// memory is taken for it. Streams without entries are dropped.
pub fn decode(
    compressed: &[u8],
    max_decoded: usize,
    max_entries: usize,
) -> Result<PushRequest, PushError> {
    let raw = protowire::snappy_block(compressed, max_decoded).map_err(|e| match e {
        SnappyError::Malformed(message) => PushError::Malformed(message),
        SnappyError::TooLarge(message) => PushError::TooLarge(message),
    })?;

    let mut request = PushRequest::default();
    let mut entries = 0usize;
    let mut top = Wire(&raw);
    while let Some((tag, field)) = top.field().map_err(malformed)? {
        if tag != 1 {
            continue;
        }
        let Field::Bytes(bytes) = field else {
            return Err(malformed("`streams` is not a message"));
        };
        let mut stream = StreamAdapter::default();
        let mut inner = Wire(bytes);
        while let Some((tag, field)) = inner.field().map_err(malformed)? {
            match (tag, field) {
                (1, Field::Bytes(b)) => {
                    stream.labels = String::from_utf8(b.to_vec())
                        .map_err(|_| malformed("stream labels are not UTF-8"))?;
                }
                (2, Field::Bytes(b)) => {
                    entries += 1;
                    if entries > max_entries {
                        return Err(PushError::TooLarge(format!(
                            "more than {max_entries} entries in one push; split the batch"
                        )));
                    }
                    let entry =
                        EntryAdapter::decode(b).map_err(|e| malformed(&format!("entry: {e}")))?;
                    stream.entries.push(entry);
                }
                (3, Field::Varint(v)) => stream.hash = v,
                (1..=3, _) => return Err(malformed("a stream field has the wrong wire type")),
                _ => {}
            }
        }
        if !stream.entries.is_empty() {
            request.streams.push(stream);
        }
    }
    Ok(request)
}

/// Turns a decoded request into records; a stream whose labels do not parse
/// has all its entries refused.
pub fn records(request: PushRequest) -> PushOutcome {
    let mut outcome = PushOutcome::default();
    for stream in request.streams {
        let fields = match labels::parse(&stream.labels) {
            Ok(pairs) => StreamFields::new(pairs),
            Err(error) => {
                let shown = shorten(&stream.labels);
                outcome.refuse(stream.entries.len(), || {
                    format!("stream {shown:?}: {error}")
                });
                continue;
            }
        };
        for (index, entry) in stream.entries.into_iter().enumerate() {
            let record = match entry.timestamp {
                Some(t) => from_proto(t.seconds, t.nanos),
                None => Err(RecordError("entry has no timestamp".into())),
            }
            .and_then(|ts| {
                let metadata = entry
                    .structured_metadata
                    .into_iter()
                    .map(|pair| (pair.name, serde_json::Value::String(pair.value)))
                    .collect();
                fields.record(ts, entry.line, metadata)
            });
            outcome.add_entry(record, &stream.labels, index);
        }
    }
    outcome
}

/// Encodes and snappy-compresses a push request, as a Loki client does (for
/// tests and tools).
pub fn encode(request: &PushRequest) -> Vec<u8> {
    let raw = request.encode_to_vec();
    // Compressing fails only past 4 GiB; an empty body then says as much.
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

fn malformed(what: &str) -> PushError {
    PushError::Malformed(format!("body is not a Loki protobuf PushRequest: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PushRequest {
        PushRequest {
            streams: vec![StreamAdapter {
                labels: r#"{app="api"}"#.into(),
                entries: vec![EntryAdapter {
                    timestamp: Some(Timestamp {
                        seconds: 1_764_151_200,
                        nanos: 5,
                    }),
                    line: "hello".into(),
                    structured_metadata: vec![LabelPairAdapter {
                        name: "trace_id".into(),
                        value: "abc".into(),
                    }],
                }],
                hash: 42,
            }],
        }
    }

    #[test]
    fn round_trips_through_snappy() {
        let body = encode(&sample());
        assert_eq!(decode(&body, 1024, 10), Ok(sample()));
    }

    #[test]
    fn corrupt_or_oversized_bodies_are_errors() {
        let malformed =
            |r: Result<PushRequest, PushError>| matches!(r, Err(PushError::Malformed(_)));
        assert!(malformed(decode(b"\xff\xff\xff\xff\xff", 1024, 10)));
        assert!(malformed(decode(b"", 1024, 10)));
        let body = encode(&sample());
        assert!(matches!(decode(&body, 4, 10), Err(PushError::TooLarge(_))));
        assert!(matches!(
            decode(b"\xff\xff\xff\xff\x0f\x00", 1 << 20, 10),
            Err(PushError::TooLarge(_))
        ));
        for junk in [
            &b"\x0a\xff\xff\xff\xff\x0f"[..],
            b"\x0a\x02\x12\x05",
            b"\x0b",
            b"\x0a\x01\x08",
            b"\x0a\x03\x12\x01\xff",
        ] {
            let body = snap::raw::Encoder::new()
                .compress_vec(junk)
                .unwrap_or_default();
            assert!(malformed(decode(&body, 1024, 10)), "{junk:?}");
        }
    }

    #[test]
    fn the_entry_limit_holds_while_reading() {
        let mut request = sample();
        let entry = request.streams[0].entries[0].clone();
        request.streams[0].entries = vec![entry; 11];
        assert!(matches!(
            decode(&encode(&request), 1 << 20, 10),
            Err(PushError::TooLarge(_))
        ));
        assert!(decode(&encode(&request), 1 << 20, 11).is_ok());
        // Empty streams are dropped, unknown fields skipped.
        let raw = [
            &b"\x0a\x00\x0a\x00\x10\x01\x1d\x00\x00\x00\x00"[..],
            &sample().encode_to_vec(),
        ]
        .concat();
        let body = snap::raw::Encoder::new()
            .compress_vec(&raw)
            .unwrap_or_default();
        assert_eq!(decode(&body, 1024, 10), Ok(sample()));
    }

    #[test]
    fn streams_become_records_or_refusals() {
        let mut request = sample();
        let mut bad = request.streams[0].clone();
        bad.labels = "{app=api}".into();
        request.streams.push(bad);
        let mut no_time = request.streams[0].clone();
        no_time.entries[0].timestamp = None;
        request.streams.push(no_time);
        let outcome = records(request);
        assert_eq!(outcome.records.len(), 1);
        assert_eq!(outcome.records[0].trace_id.as_deref(), Some("abc"));
        assert_eq!(outcome.records[0].service, "api");
        assert_eq!(outcome.refused, 2);
        let first = outcome.first_refusal.unwrap_or_default();
        assert!(
            first.contains("{app=api}") && first.contains("invalid labels"),
            "{first}"
        );
    }
}
