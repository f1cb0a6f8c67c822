//! The `sightline` binary: parses the command line and hands over to the library.

/// mimalloc instead of the system allocator: ingest allocates and frees many
/// small values a request (parsed JSON, records); in a profile of the errors
/// benchmark, glibc's `malloc` and `free` were most of the quarter of the
/// server's CPU spent in libc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    server::cli::main()
}
