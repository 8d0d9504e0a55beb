//! The `sigconform` command: see the library's documentation for its
//! subcommands.

fn main() -> std::process::ExitCode {
    sigconform::main(std::env::args_os())
}
