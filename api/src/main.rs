//! The `dermis` command: `serve`, `migrate`, `seed`, `schema`.

fn main() -> std::process::ExitCode {
    dermis_api::cli::run()
}
