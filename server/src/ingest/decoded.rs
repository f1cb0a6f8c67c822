//! [`Decoded`]: what an adapter made of a request's records, the one shape of
//! "these are stored, these many were refused, and the first was refused
//! because ..." that each protocol then answers in its own words (Loki's 400
//! after storing the good entries, OTLP's `partialSuccess`, ...).

/// The records of a request that can be stored, how many could not, and why
/// the first of those could not.
#[derive(Debug)]
pub struct Decoded<R> {
    pub records: Vec<R>,
    pub refused: usize,
    pub first_refusal: Option<String>,
}

impl<R> Default for Decoded<R> {
    fn default() -> Self {
        Decoded {
            records: Vec::new(),
            refused: 0,
            first_refusal: None,
        }
    }
}

impl<R> Decoded<R> {
    /// Counts `count` records refused for `reason` (made only for the first).
    pub fn refuse(&mut self, count: usize, reason: impl FnOnce() -> String) {
        if count == 0 {
            return;
        }
        self.refused += count;
        if self.first_refusal.is_none() {
            self.first_refusal = Some(reason());
        }
    }

    /// Keeps a record, or counts it refused with the reason `describe` gives.
    pub fn add<E>(&mut self, record: Result<R, E>, describe: impl FnOnce(E) -> String) {
        match record {
            Ok(record) => self.records.push(record),
            Err(error) => self.refuse(1, || describe(error)),
        }
    }

    /// The refused count as OTLP's `rejected_*` fields carry it.
    pub fn refused_i64(&self) -> i64 {
        i64::try_from(self.refused).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::Decoded;

    #[test]
    fn the_first_refusal_is_kept() {
        let mut decoded = Decoded::default();
        decoded.add(Ok::<_, String>(1), |e| e);
        decoded.add(Err("too long".to_string()), |e| format!("entry 1: {e}"));
        decoded.refuse(2, || unreachable!("only the first refusal is described"));
        decoded.refuse(0, || unreachable!("nothing refused"));
        assert_eq!(decoded.records, [1]);
        assert_eq!(decoded.refused, 3);
        assert_eq!(decoded.first_refusal.as_deref(), Some("entry 1: too long"));
    }
}
