//! The `sightline` binary: parses the command line and hands over to the library.

/// mimalloc instead of the system allocator: ingest allocates and frees many
/// small values a request (parsed JSON, records), and glibc's malloc took about
/// a quarter of the server's CPU in the errors benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    server::cli::main()
}
