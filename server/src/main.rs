//! The `herald` binary: parse settings, start logging, run until SIGINT/SIGTERM.

use std::process::ExitCode;

use server::config::{self, Command};
use server::{startup, telemetry, Application};

fn main() -> ExitCode {
    let (cli, matches) = config::parse_cli();
    let (args, arg_matches, check_only) = match &cli.command {
        None => (&cli.serve, Some(&matches), false),
        Some(Command::Serve(args)) => (args, matches.subcommand_matches("serve"), false),
        Some(Command::CheckConfig(args)) => {
            (args, matches.subcommand_matches("check-config"), true)
        }
    };
    let config = match config::load(args, arg_matches) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("herald: {error}");
            return ExitCode::from(2);
        }
    };
    if check_only {
        print!("{}", config.describe());
        return ExitCode::SUCCESS;
    }
    telemetry::init(config.log_format, &config.log_level);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("herald: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let app = Application::build(config).await?;
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            "Herald is listening on http://{}",
            app.local_addr()?
        );
        app.run_until(startup::shutdown_signal()).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("herald: {error:#}");
            ExitCode::FAILURE
        }
    }
}
