//! Settings, layered with precedence flag > environment > TOML file > default, validated at start
//! so a bad setting fails with one line naming it and where it came from.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use serde::Deserialize;

/// Command line of the `herald` binary.
#[derive(Debug, Parser)]
#[command(
    name = "herald",
    version,
    about = "Herald: a self-hosted WhatsApp Business campaign platform in one binary.",
    long_about = "Herald: a self-hosted WhatsApp Business campaign platform in one binary.\n\n\
        Every setting can be given as a flag, as an environment variable, or in a TOML file \
        named by --config; a flag wins over the environment, which wins over the file, which \
        wins over the default.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings for the default `serve` command.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server and background work (the default).
    Serve(ServeArgs),
    /// Validate the configuration, print the effective settings (secrets masked) and exit.
    CheckConfig(ServeArgs),
}

/// Settings of a running server.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (keys as in the flag names, with `_`).
    #[arg(long, env = "HERALD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "HERALD_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Directory holding Herald's database [default: ./herald-data].
    #[arg(long, env = "HERALD_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<String>,
    /// Log output: `human` or `json` [default: human].
    #[arg(long, env = "HERALD_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Log filter in tracing's syntax, e.g. `info` or `info,server=debug` [default: info].
    #[arg(long, env = "HERALD_LOG", value_name = "FILTER")]
    pub log_level: Option<String>,
    /// URL people use to reach Herald, e.g. https://herald.example.com. With https, session
    /// cookies are marked Secure.
    #[arg(long, env = "HERALD_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Take the client address from the last X-Forwarded-For entry (set when Herald runs behind
    /// a reverse proxy, so login throttling sees real client addresses) [default: false].
    #[arg(long, env = "HERALD_TRUST_PROXY", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub trust_proxy: Option<String>,
    /// Bearer token required by GET /metrics; when unset, /metrics answers loopback clients only.
    #[arg(
        long,
        env = "HERALD_METRICS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// Extra words that, written alone by a contact, opt them out (comma-separated; added to
    /// STOP, UNSUBSCRIBE, İPTAL, BAJA, PARAR, ARRÊT and the other built-in ones).
    #[arg(long, env = "HERALD_STOP_WORDS", value_name = "WORDS")]
    pub stop_words: Option<String>,
    /// Seconds a campaign send may stay without answer or status report before it is reported
    /// as unknown (never resent automatically) [default: 600].
    #[arg(long, env = "HERALD_UNKNOWN_AFTER_SECS", value_name = "SECONDS")]
    pub unknown_after_secs: Option<String>,
    /// Seconds a scheduled campaign may start late (Herald was down) before it waits for a person
    /// to confirm or reschedule [default: 900].
    #[arg(long, env = "HERALD_OVERDUE_GRACE_SECS", value_name = "SECONDS")]
    pub overdue_grace_secs: Option<String>,
}

/// The TOML file's shape; unknown keys are errors so typos do not pass silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<String>,
    data_dir: Option<String>,
    log_format: Option<String>,
    log_level: Option<String>,
    public_url: Option<String>,
    trust_proxy: Option<bool>,
    metrics_token: Option<String>,
    stop_words: Option<String>,
    unknown_after_secs: Option<u64>,
    overdue_grace_secs: Option<u64>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Readable lines for a terminal or journald.
    Human,
    /// One JSON object per line for log shippers.
    Json,
}

/// A secret setting: never printed in full.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that compares it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address.
    pub listen: SocketAddr,
    /// Database directory.
    pub data_dir: PathBuf,
    /// Log output format.
    pub log_format: LogFormat,
    /// Log filter.
    pub log_level: String,
    /// Public URL, if configured.
    pub public_url: Option<String>,
    /// Whether X-Forwarded-For is trusted.
    pub trust_proxy: bool,
    /// Token guarding /metrics.
    pub metrics_token: Option<Secret>,
    /// Opt-out words besides the built-in ones, as configured.
    pub stop_words: Vec<String>,
    /// Seconds before an unanswered campaign send is reported unknown.
    pub unknown_after_secs: u64,
    /// Seconds a scheduled start may be missed before it needs confirming.
    pub overdue_grace_secs: u64,
    /// Ignore every number's throughput. Not a setting: only the campaign benchmark sets it, to
    /// measure what Herald itself can do.
    pub unthrottled_for_benchmarks: bool,
    /// How long clients may take to send requests. Not a setting: fixed values that suit every
    /// installation; tests shorten them.
    pub timeouts: ConnectionTimeouts,
}

/// Time limits on reading requests (see `http::serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionTimeouts {
    /// For a request's line and headers, and for an idle keep-alive connection.
    pub header_read: std::time::Duration,
    /// For each pause between chunks of a request body.
    pub body_idle: std::time::Duration,
}

impl Default for ConnectionTimeouts {
    fn default() -> Self {
        Self {
            header_read: std::time::Duration::from_secs(10),
            body_idle: std::time::Duration::from_secs(30),
        }
    }
}

impl Config {
    /// Defaults with the given data directory and an OS-chosen port; for tests and embedding.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.to_path_buf(),
            log_format: LogFormat::Human,
            log_level: "info".into(),
            public_url: None,
            trust_proxy: false,
            metrics_token: None,
            stop_words: Vec::new(),
            unknown_after_secs: 600,
            overdue_grace_secs: 900,
            unthrottled_for_benchmarks: false,
            timeouts: ConnectionTimeouts::default(),
        }
    }

    /// Whether Herald is served over https, judged from the configured public URL.
    pub fn is_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    /// A human-readable listing of the effective settings, secrets masked.
    pub fn describe(&self) -> String {
        format!(
            "listen = {}\ndata_dir = {}\nlog_format = {:?}\nlog_level = {}\npublic_url = {}\n\
             trust_proxy = {}\nmetrics_token = {}\nstop_words = {}\nunknown_after_secs = {}\n\
             overdue_grace_secs = {}\n",
            self.listen,
            self.data_dir.display(),
            self.log_format,
            self.log_level,
            self.public_url.as_deref().unwrap_or("(unset)"),
            self.trust_proxy,
            if self.metrics_token.is_some() {
                "(set)"
            } else {
                "(unset)"
            },
            if self.stop_words.is_empty() {
                "(built-in only)".to_string()
            } else {
                self.stop_words.join(", ")
            },
            self.unknown_after_secs,
            self.overdue_grace_secs,
        )
    }
}

/// A setting that failed validation; `Display` is the one line printed at start.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting `{setting}` = {value:?} ({origin}): {expected}")]
pub struct ConfigError {
    /// Setting name as in the TOML file.
    pub setting: &'static str,
    /// The offending value.
    pub value: String,
    /// Where it came from.
    pub origin: String,
    /// What would be accepted.
    pub expected: String,
}

/// Parses the process's command line; clap exits on `--help`, `--version` and usage errors.
pub fn parse_cli() -> (Cli, ArgMatches) {
    let matches = Cli::command().get_matches();
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => (cli, matches),
        Err(e) => e.exit(),
    }
}

/// Where a value came from, for error messages.
struct Layered<'a> {
    matches: Option<&'a ArgMatches>,
    file: FileSettings,
    file_path: Option<PathBuf>,
}

impl Layered<'_> {
    /// Picks flag/env value or file value or default, with its origin.
    fn pick(
        &self,
        setting: &'static str,
        flag: &str,
        env: &str,
        from_args: Option<String>,
        from_file: Option<String>,
        default: &str,
    ) -> (String, String) {
        if let Some(value) = from_args {
            let origin = match self.matches.and_then(|m| m.value_source(setting)) {
                Some(ValueSource::EnvVariable) => format!("from environment variable {env}"),
                _ => format!("from flag --{flag}"),
            };
            return (value, origin);
        }
        if let Some(value) = from_file {
            let path = self.file_path.as_deref().unwrap_or(Path::new("?"));
            return (value, format!("from config file {}", path.display()));
        }
        (default.to_string(), "default".to_string())
    }
}

/// Builds the [`Config`] from parsed arguments (and the matches that tell flags from env vars).
pub fn load(args: &ServeArgs, matches: Option<&ArgMatches>) -> Result<Config, ConfigError> {
    let file_path = args.config.clone();
    let file = match &file_path {
        Some(path) => read_file(path)?,
        None => FileSettings::default(),
    };
    let layers = Layered {
        matches,
        file,
        file_path,
    };
    let err = |setting, (value, origin): (String, String), expected: &str| ConfigError {
        setting,
        value,
        origin,
        expected: expected.to_string(),
    };

    let listen = layers.pick(
        "listen",
        "listen",
        "HERALD_LISTEN",
        args.listen.clone(),
        layers.file.listen.clone(),
        "127.0.0.1:8080",
    );
    let listen_addr = listen.0.parse().map_err(|_| {
        err(
            "listen",
            listen,
            "expected an address and port such as 127.0.0.1:8080",
        )
    })?;

    let data_dir = layers.pick(
        "data_dir",
        "data-dir",
        "HERALD_DATA_DIR",
        args.data_dir.clone(),
        layers.file.data_dir.clone(),
        "./herald-data",
    );
    if data_dir.0.trim().is_empty() {
        return Err(err("data_dir", data_dir, "expected a directory path"));
    }

    let log_format = layers.pick(
        "log_format",
        "log-format",
        "HERALD_LOG_FORMAT",
        args.log_format.clone(),
        layers.file.log_format.clone(),
        "human",
    );
    let log_format_value = match log_format.0.as_str() {
        "human" => LogFormat::Human,
        "json" => LogFormat::Json,
        _ => return Err(err("log_format", log_format, "expected `human` or `json`")),
    };

    let log_level = layers.pick(
        "log_level",
        "log-level",
        "HERALD_LOG",
        args.log_level.clone(),
        layers.file.log_level.clone(),
        "info",
    );
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&log_level.0) {
        let expected = format!("expected a filter such as `info` or `info,server=debug` ({e})");
        return Err(err("log_level", log_level, &expected));
    }

    let public_url = layers.pick(
        "public_url",
        "public-url",
        "HERALD_PUBLIC_URL",
        args.public_url.clone(),
        layers.file.public_url.clone(),
        "",
    );
    let is_url = public_url.0.starts_with("http://") || public_url.0.starts_with("https://");
    if !public_url.0.is_empty() && !is_url {
        return Err(err(
            "public_url",
            public_url,
            "expected a URL starting with http:// or https://",
        ));
    }

    let trust_proxy = layers.pick(
        "trust_proxy",
        "trust-proxy",
        "HERALD_TRUST_PROXY",
        args.trust_proxy.clone(),
        layers.file.trust_proxy.map(|b| b.to_string()),
        "false",
    );
    let trust_proxy_value = match trust_proxy.0.as_str() {
        "true" | "1" | "yes" => true,
        "false" | "0" | "no" => false,
        _ => return Err(err("trust_proxy", trust_proxy, "expected true or false")),
    };

    let metrics_token = layers.pick(
        "metrics_token",
        "metrics-token",
        "HERALD_METRICS_TOKEN",
        args.metrics_token.clone(),
        layers.file.metrics_token.clone(),
        "",
    );
    if !metrics_token.0.is_empty() && metrics_token.0.len() < 16 {
        let (_, origin) = metrics_token;
        return Err(ConfigError {
            setting: "metrics_token",
            value: "<redacted>".into(),
            origin,
            expected: "expected at least 16 characters".into(),
        });
    }

    let stop_words = layers.pick(
        "stop_words",
        "stop-words",
        "HERALD_STOP_WORDS",
        args.stop_words.clone(),
        layers.file.stop_words.clone(),
        "",
    );
    let stop_word_list: Vec<String> = stop_words
        .0
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    if stop_word_list.iter().any(|w| w.chars().count() > 40) {
        return Err(err(
            "stop_words",
            stop_words,
            "expected comma-separated words of at most 40 characters each",
        ));
    }

    let seconds = |setting: &'static str,
                   flag: &'static str,
                   env: &'static str,
                   arg: &Option<String>,
                   file: Option<u64>,
                   default: &'static str|
     -> Result<u64, ConfigError> {
        let value = layers.pick(
            setting,
            flag,
            env,
            arg.clone(),
            file.map(|v| v.to_string()),
            default,
        );
        match value.0.trim().parse::<u64>() {
            Ok(n) if (1..=86_400).contains(&n) => Ok(n),
            _ => Err(err(
                setting,
                value,
                "expected a number of seconds from 1 to 86400",
            )),
        }
    };
    let unknown_after_secs = seconds(
        "unknown_after_secs",
        "unknown-after-secs",
        "HERALD_UNKNOWN_AFTER_SECS",
        &args.unknown_after_secs,
        layers.file.unknown_after_secs,
        "600",
    )?;
    let overdue_grace_secs = seconds(
        "overdue_grace_secs",
        "overdue-grace-secs",
        "HERALD_OVERDUE_GRACE_SECS",
        &args.overdue_grace_secs,
        layers.file.overdue_grace_secs,
        "900",
    )?;

    Ok(Config {
        listen: listen_addr,
        data_dir: PathBuf::from(data_dir.0),
        log_format: log_format_value,
        log_level: log_level.0,
        public_url: (!public_url.0.is_empty())
            .then(|| public_url.0.trim_end_matches('/').to_string()),
        trust_proxy: trust_proxy_value,
        metrics_token: (!metrics_token.0.is_empty()).then_some(Secret(metrics_token.0)),
        stop_words: stop_word_list,
        unknown_after_secs,
        overdue_grace_secs,
        unthrottled_for_benchmarks: false,
        timeouts: ConnectionTimeouts::default(),
    })
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let fail = |expected: String| ConfigError {
        setting: "config",
        value: path.display().to_string(),
        origin: "config file".into(),
        expected,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
        fail(format!("{}{at}", e.message().trim()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> (Cli, ArgMatches) {
        let matches = Cli::command().try_get_matches_from(args).unwrap();
        (Cli::from_arg_matches(&matches).unwrap(), matches)
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = load(&ServeArgs::default(), None).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("./herald-data"));
        assert_eq!(config.log_format, LogFormat::Human);
    }

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("herald.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/herald\"\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let (cli, m) = parse(&["herald", "--config", path, "--data-dir", "/tmp/x"]);
        let config = load(&cli.serve, Some(&m)).unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn the_serve_subcommand_takes_the_same_flags() {
        let (cli, _) = parse(&["herald", "serve", "--listen", "127.0.0.1:1"]);
        let Some(Command::Serve(args)) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(args.listen.as_deref(), Some("127.0.0.1:1"));
    }

    #[test]
    fn a_bad_value_is_one_line_naming_the_setting_and_its_origin() {
        let (cli, m) = parse(&["herald", "--listen", "localhost"]);
        let message = load(&cli.serve, Some(&m)).unwrap_err().to_string();
        assert_eq!(
            message,
            "invalid setting `listen` = \"localhost\" (from flag --listen): expected an address \
             and port such as 127.0.0.1:8080"
        );
        assert_eq!(message.lines().count(), 1);
    }

    #[test]
    fn unknown_keys_in_the_file_are_rejected_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("herald.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:1\"\nlisten_port = 3\n").unwrap();
        let args = ServeArgs {
            config: Some(file),
            ..Default::default()
        };
        let message = load(&args, None).unwrap_err().to_string();
        assert!(
            message.contains("listen_port") && message.contains("line 2"),
            "{message}"
        );
        assert_eq!(message.lines().count(), 1, "{message}");
    }

    #[test]
    fn the_shipped_example_file_is_valid() {
        let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/herald.example.toml"));
        let config = load(
            &ServeArgs {
                config: Some(path),
                ..Default::default()
            },
            None,
        )
        .unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn secrets_are_validated_without_echoing_them() {
        let args = ServeArgs {
            metrics_token: Some("short-secret".into()),
            ..Default::default()
        };
        let message = load(&args, None).unwrap_err().to_string();
        assert!(
            !message.contains("short-secret") && message.contains("metrics_token"),
            "{message}"
        );
        let args = ServeArgs {
            metrics_token: Some("a-long-enough-secret".into()),
            ..Default::default()
        };
        let config = load(&args, None).unwrap();
        assert!(!format!("{config:?}").contains("a-long-enough-secret"));
        assert!(!config.describe().contains("a-long-enough-secret"));
    }

    #[test]
    fn invalid_enumerations_and_urls_are_rejected() {
        for args in [
            ServeArgs {
                log_format: Some("xml".into()),
                ..Default::default()
            },
            ServeArgs {
                public_url: Some("herald.example.com".into()),
                ..Default::default()
            },
            ServeArgs {
                trust_proxy: Some("maybe".into()),
                ..Default::default()
            },
            ServeArgs {
                log_level: Some("info,=[".into()),
                ..Default::default()
            },
            ServeArgs {
                stop_words: Some(format!("ok, {}", "x".repeat(41))),
                ..Default::default()
            },
        ] {
            assert!(load(&args, None).is_err(), "{args:?}");
        }
    }

    #[test]
    fn stop_words_are_a_trimmed_comma_separated_list() {
        let args = ServeArgs {
            stop_words: Some(" Nein danke ,, ABBESTELLEN ".into()),
            ..Default::default()
        };
        let config = load(&args, None).unwrap();
        assert_eq!(config.stop_words, ["Nein danke", "ABBESTELLEN"]);
        assert!(config
            .describe()
            .contains("stop_words = Nein danke, ABBESTELLEN"));
    }
}
