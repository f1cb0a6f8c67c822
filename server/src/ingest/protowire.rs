//! Pieces of the protobuf protocols (Loki push, Prometheus remote write): the
//! snappy *block* format their bodies come in, read with its size checked
//! before any memory is taken for it, and [`Wire`], a cursor over protobuf's
//! wire format with which an adapter walks the outer levels of a message by
//! hand, so that its record limits hold while reading: a body of tiny empty
//! messages cannot take memory out of proportion to its size.

/// Why a snappy body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnappyError {
    /// Not a snappy block (400).
    Malformed(String),
    /// Larger than allowed once decompressed (413).
    TooLarge(String),
}

/// Decompresses a snappy block of at most `max_decoded` bytes; the size is
/// read from the block's header and checked first.
pub fn snappy_block(compressed: &[u8], max_decoded: usize) -> Result<Vec<u8>, SnappyError> {
    let malformed = |e: snap::Error| {
        SnappyError::Malformed(format!("body is not snappy-compressed protobuf: {e}"))
    };
    let len = snap::raw::decompress_len(compressed).map_err(malformed)?;
    if len > max_decoded {
        return Err(SnappyError::TooLarge(format!(
            "decompressed body larger than {} MiB",
            max_decoded / (1024 * 1024)
        )));
    }
    snap::raw::Decoder::new()
        .decompress_vec(compressed)
        .map_err(malformed)
}

/// One field as read from the wire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    /// A 64-bit field, as its bits (a `double` is `f64::from_bits`).
    Fixed64(u64),
    Fixed32(u32),
}

/// A cursor over protobuf wire format: just enough to walk fields. Errors
/// name what was wrong, for the adapter's 400.
#[derive(Debug, Clone, Copy)]
pub struct Wire<'a>(pub &'a [u8]);

impl<'a> Wire<'a> {
    fn varint(&mut self) -> Result<u64, &'static str> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.0.split_first().ok_or("truncated varint")?;
            self.0 = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err("varint longer than 10 bytes")
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], &'static str> {
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n <= self.0.len())
            .ok_or("truncated field")?;
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    /// The next field's tag and value, or `None` at the end.
    pub fn field(&mut self) -> Result<Option<(u64, Field<'a>)>, &'static str> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let tag = key >> 3;
        if tag == 0 {
            return Err("field number 0");
        }
        let field = match key & 7 {
            0 => Field::Varint(self.varint()?),
            1 => {
                let bytes: [u8; 8] = self.take(8)?.try_into().map_err(|_| "truncated field")?;
                Field::Fixed64(u64::from_le_bytes(bytes))
            }
            2 => {
                let len = self.varint()?;
                Field::Bytes(self.take(len)?)
            }
            5 => {
                let bytes: [u8; 4] = self.take(4)?.try_into().map_err(|_| "truncated field")?;
                Field::Fixed32(u32::from_le_bytes(bytes))
            }
            _ => return Err("unsupported wire type"),
        };
        Ok(Some((tag, field)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_walked_and_truncation_is_an_error() {
        // field 1 varint 150, field 2 bytes "hi", field 3 double 1.5
        let mut bytes = vec![0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i', 0x19];
        bytes.extend_from_slice(&1.5f64.to_bits().to_le_bytes());
        let mut wire = Wire(&bytes);
        assert_eq!(wire.field(), Ok(Some((1, Field::Varint(150)))));
        assert_eq!(wire.field(), Ok(Some((2, Field::Bytes(b"hi")))));
        assert_eq!(
            wire.field(),
            Ok(Some((3, Field::Fixed64(1.5f64.to_bits()))))
        );
        assert_eq!(wire.field(), Ok(None));
        assert_eq!(Wire(&bytes[..6]).field().map(|_| ()), Ok(()));
        let mut cut = Wire(&bytes[3..6]);
        assert_eq!(cut.field(), Err("truncated field"));
        assert_eq!(Wire(&[0x00]).field(), Err("field number 0"));
    }

    #[test]
    fn snappy_bodies_are_checked_before_decoding() {
        let body = snap::raw::Encoder::new()
            .compress_vec(&[7u8; 4096])
            .unwrap();
        assert_eq!(snappy_block(&body, 4096).unwrap().len(), 4096);
        assert!(matches!(
            snappy_block(&body, 4095),
            Err(SnappyError::TooLarge(_))
        ));
        assert!(matches!(
            snappy_block(b"\xff\xff\xff", 10),
            Err(SnappyError::Malformed(_))
        ));
    }
}
