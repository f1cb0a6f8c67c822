//! What every kind of record goes through between its protocol adapter and its
//! batch writer, whatever the kind: for now the clock-drift rule ([`clock`]).
//! The bounded queue and group commit (`ingest::queue`) belong here too and
//! move here with issue 12.

pub mod clock;
