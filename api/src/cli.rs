//! The `dermis` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};

use crate::config::{DatabaseArgs, LogFormat, MediaArgs, ServeArgs};
use crate::content::seed;
use crate::startup::Application;
use crate::{backup, db, graphql, telemetry};

/// Dermis: a GraphQL content API about skin procedures, with an admin CMS.
#[derive(Debug, Parser)]
#[command(name = "dermis", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve(Box<ServeArgs>),
    /// Database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Load the sample content, or a seed file: inserts what is missing, changes nothing else.
    Seed {
        /// A seed file (JSON, same shape as `api/seeds/sample.json`); default: the sample content.
        #[arg(long)]
        file: Option<PathBuf>,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        media: MediaArgs,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Write all content, links, revisions, users (password hashes only) and media files as
    /// one archive (tar; gzip when the name ends in `.gz`), for backups and moves between
    /// databases. Memory stays flat whatever the size.
    Export {
        /// Where to write it; default: standard output. Written beside it first, and renamed
        /// once complete.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Compress with gzip (default: when the output's name ends in `.gz` or `.tgz`).
        #[arg(long)]
        gzip: bool,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        media: MediaArgs,
    },
    /// Load an export (an archive, or the JSON document of earlier versions) into an empty
    /// database (migrated first) and its media store, all or nothing, as a stream.
    Import {
        /// The export file; `-` reads standard input.
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        media: MediaArgs,
    },
    /// Manage users. Passwords are read from a prompt, or from the first line of standard
    /// input when it is not a terminal; never from the command line.
    User {
        #[command(subcommand)]
        action: UserAction,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Manage API tokens for integrations. `create` prints the secret (alone, on standard
    /// output) this once.
    Token {
        #[command(subcommand)]
        action: TokenAction,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
enum TokenAction {
    /// Create a token.
    Create {
        /// What it is for.
        #[arg(long)]
        name: String,
        /// What it may do (repeat for several): `preview` (read drafts), `content-write`, or
        /// `webhooks-manage`.
        #[arg(long = "scope", required = true, value_parser = ["preview", "content-write", "webhooks-manage"])]
        scopes: Vec<String>,
        /// The active admin the token belongs to (it works while they are one).
        #[arg(long)]
        by: String,
        /// Days until it stops working (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List tokens: id, prefix, name, scopes, state, last use.
    List,
    /// Revoke a token: refused from the next request on, on every node.
    Revoke {
        /// The token's id (see `list`).
        #[arg(long)]
        id: i32,
    },
}

#[derive(Debug, Subcommand)]
enum UserAction {
    /// Create a user.
    Create {
        /// Email address (the sign-in name).
        #[arg(long)]
        email: String,
        /// Name shown to colleagues.
        #[arg(long)]
        name: String,
        /// `admin`, `reviewer` (approves content) or `editor`.
        #[arg(long, value_parser = ["admin", "reviewer", "editor"])]
        role: String,
    },
    /// List users.
    List,
    /// Set a user's password; every session of the user ends.
    SetPassword {
        /// The user's email.
        #[arg(long)]
        email: String,
    },
    /// Deactivate a user; every session of the user ends.
    Deactivate {
        /// The user's email.
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// List migrations and whether each is applied.
    Status,
}

/// A failure of a subcommand, printed as one line.
#[derive(Debug)]
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn config(err: impl std::fmt::Display) -> Self {
        Self {
            message: err.to_string(),
            code: 2,
        }
    }

    /// Input errors are the caller's (exit 2); anything else is a runtime failure.
    fn from_api(err: crate::errors::ApiError) -> Self {
        use crate::errors::ApiError;
        match err {
            ApiError::BadUserInput { .. } | ApiError::NotFound(_) => Self::config(err),
            other => Self::runtime(other),
        }
    }

    fn runtime(err: impl std::fmt::Display) -> Self {
        Self {
            message: err.to_string(),
            code: 1,
        }
    }
}

/// Parses the command line, runs the subcommand and returns the exit code.
pub fn run() -> ExitCode {
    let dotenv = dotenvy::dotenv();
    let cli = Cli::parse();
    if let Err(err) = dotenv
        && !err.not_found()
    {
        eprintln!("warning: ignoring .env: {err}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(Failure::runtime(format!("cannot start the runtime: {err}"))),
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => fail(failure),
    }
}

fn fail(failure: Failure) -> ExitCode {
    // One line, whatever the error chain holds.
    let line = failure.message.replace(['\n', '\r'], " ");
    eprintln!("error: {line}");
    ExitCode::from(failure.code)
}

async fn dispatch(command: Command) -> Result<(), Failure> {
    match command {
        Command::Serve(args) => serve(*args).await,
        Command::Migrate { action, database } => migrate(action, database).await,
        Command::Seed {
            file,
            database,
            media,
        } => seed(file, database, media).await,
        Command::Schema => {
            print!("{}", graphql::sdl().await);
            Ok(())
        }
        Command::User { action, database } => user(action, database).await,
        Command::Token { action, database } => token(action, database).await,
        Command::Export {
            output,
            gzip,
            database,
            media,
        } => export(output, gzip, database, media).await,
        Command::Import {
            file,
            database,
            media,
        } => import(file, database, media).await,
    }
}

/// Reads a password: from a prompt (twice) on a terminal, else the first line of stdin.
fn read_password() -> Result<String, Failure> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(Failure::runtime)?;
        let again = rpassword::prompt_password("Repeat password: ").map_err(Failure::runtime)?;
        if first != again {
            return Err(Failure::config("the passwords differ"));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(Failure::runtime)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    }
}

async fn user(action: UserAction, database: DatabaseArgs) -> Result<(), Failure> {
    use crate::auth::users::{self, NewUser};
    telemetry::init(LogFormat::Human);
    let settings = database.settings().map_err(Failure::config)?;
    let conn = open_migrated(&settings).await?;
    let fail = Failure::from_api;
    let find = |email: String| {
        let conn = conn.clone();
        async move {
            users::by_email(&conn, &email)
                .await
                .map_err(fail)?
                .ok_or_else(|| Failure::config(format!("no user with email {email}")))
        }
    };
    match action {
        UserAction::Create { email, name, role } => {
            let role = match role.as_str() {
                "admin" => entity::Role::Admin,
                "reviewer" => entity::Role::Reviewer,
                _ => entity::Role::Editor,
            };
            let password = read_password()?;
            let user = users::create(
                &conn,
                NewUser {
                    email,
                    display_name: name,
                    role,
                    password,
                },
            )
            .await
            .map_err(fail)?;
            println!(
                "created {:?} user {} (id {})",
                user.role, user.email, user.id
            );
        }
        UserAction::List => {
            for user in users::list(&conn).await.map_err(fail)? {
                let state = if user.active { "active" } else { "deactivated" };
                println!(
                    "{}\t{}\t{:?}\t{}\t{}",
                    user.id, user.email, user.role, state, user.display_name
                );
            }
        }
        UserAction::SetPassword { email } => {
            let user = find(email).await?;
            let password = read_password()?;
            users::set_password(&conn, user.id, password, "password")
                .await
                .map_err(fail)?;
            println!("password changed for {}; its sessions ended", user.email);
        }
        UserAction::Deactivate { email } => {
            let user = find(email).await?;
            users::deactivate(&conn, user.id).await.map_err(fail)?;
            println!("deactivated {}; its sessions ended", user.email);
        }
    }
    Ok(())
}

async fn token(action: TokenAction, database: DatabaseArgs) -> Result<(), Failure> {
    use crate::auth::api_tokens::{self, NewToken, Scope};
    use crate::auth::users;
    telemetry::init(LogFormat::Human);
    let settings = database.settings().map_err(Failure::config)?;
    let conn = open_migrated(&settings).await?;
    let fail = Failure::from_api;
    match action {
        TokenAction::Create {
            name,
            scopes,
            by,
            expires_in_days,
        } => {
            let creator = users::by_email(&conn, &by)
                .await
                .map_err(fail)?
                .filter(|user| user.active && user.role == entity::Role::Admin)
                .ok_or_else(|| Failure::config(format!("{by} is not an active admin")))?;
            // Each named scope once, however often it was repeated.
            let scopes: Vec<Scope> = Scope::ALL
                .into_iter()
                .filter(|scope| {
                    let name = match scope {
                        Scope::Preview => "preview",
                        Scope::ContentWrite => "content-write",
                        Scope::WebhooksManage => "webhooks-manage",
                    };
                    scopes.iter().any(|given| given == name)
                })
                .collect();
            let expires_at = expires_in_days
                .map(|days| crate::db::now() + chrono::Duration::days(i64::from(days)));
            let created = api_tokens::create(
                &conn,
                creator.id,
                NewToken {
                    name,
                    scopes,
                    expires_at,
                },
            )
            .await
            .map_err(fail)?;
            eprintln!(
                "created API token {} ({}); its secret follows, shown this once",
                created.token.id, created.token.prefix
            );
            println!("{}", created.secret);
        }
        TokenAction::List => {
            for token in api_tokens::list(&conn).await.map_err(fail)? {
                let state = if token.revoked_at.is_some() {
                    "revoked"
                } else if api_tokens::is_active(&token) {
                    "active"
                } else {
                    "expired"
                };
                let last_used = token
                    .last_used_at
                    .map_or_else(|| "never used".to_owned(), |at| at.to_rfc3339());
                println!(
                    "{}\t{}\t{}\t{}\t{state}\t{last_used}",
                    token.id, token.prefix, token.name, token.scopes
                );
            }
        }
        TokenAction::Revoke { id } => {
            let token = api_tokens::revoke(&conn, id).await.map_err(fail)?;
            println!("revoked API token {} ({})", token.id, token.name);
        }
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<(), Failure> {
    let settings = args.settings().map_err(Failure::config)?;
    telemetry::init(args.log_format);
    let app = Application::build(settings)
        .await
        .map_err(Failure::runtime)?;
    tracing::info!("listening on http://{}", app.local_addr());
    if let Some(code) = app.setup_code() {
        tracing::warn!(
            "no user exists yet: open http://{}/admin/ and create the first admin with setup code {code} \
             (or run `dermis user create --role admin`)",
            app.local_addr()
        );
    }
    app.run_until_stopped().await.map_err(Failure::runtime)?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(action: MigrateAction, database: DatabaseArgs) -> Result<(), Failure> {
    telemetry::init(LogFormat::Human);
    let settings = database.settings().map_err(Failure::config)?;
    let conn = db::connect(&settings, None)
        .await
        .map_err(Failure::runtime)?;
    match action {
        MigrateAction::Up => {
            let before = db::migrate(&conn).await.map_err(Failure::runtime)?;
            let total = Migrator::migrations().len();
            println!(
                "applied {} migration(s); {total} of {total} applied",
                total.saturating_sub(before)
            );
        }
        MigrateAction::Status => {
            let migrations = Migrator::get_migration_with_status(&conn)
                .await
                .map_err(Failure::runtime)?;
            for migration in migrations {
                println!(
                    "{:<10} {}",
                    format!("{:?}", migration.status()),
                    migration.name()
                );
            }
        }
    }
    Ok(())
}

async fn seed(
    file: Option<PathBuf>,
    database: DatabaseArgs,
    media: MediaArgs,
) -> Result<(), Failure> {
    telemetry::init(LogFormat::Human);
    let settings = database.settings().map_err(Failure::config)?;
    let json = match &file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|err| Failure::config(format!("cannot read {}: {err}", path.display())))?,
        None => seed::SAMPLE.to_owned(),
    };
    let data = seed::parse(&json).map_err(Failure::config)?;
    let conn = open_migrated(&settings).await?;
    let report = seed::load(&conn, &addresses(&media), data)
        .await
        .map_err(Failure::runtime)?;
    println!(
        "seed: created {} document(s), {} already present (left unchanged)",
        report.created, report.skipped
    );
    Ok(())
}

/// How media addresses are spelt in the HTML a command renders.
fn addresses(media: &MediaArgs) -> crate::media::Addresses {
    crate::media::Addresses {
        public_base: media.public_base(),
    }
}

/// The media store `serve` would use with these settings on `conn`.
async fn media_store(
    conn: &sea_orm::DatabaseConnection,
    media: &MediaArgs,
) -> Result<crate::media::MediaStore, Failure> {
    let url = media.url().map_err(Failure::config)?;
    let sqlite_file = db::sqlite_file(conn).await.map_err(Failure::runtime)?;
    let location =
        crate::config::settings::MediaLocation::resolve(url.as_deref(), sqlite_file.as_deref());
    crate::media::MediaStore::open(&location).map_err(Failure::runtime)
}

async fn export(
    output: Option<PathBuf>,
    gzip: bool,
    database: DatabaseArgs,
    media: MediaArgs,
) -> Result<(), Failure> {
    telemetry::init(LogFormat::Human);
    let settings = database.settings().map_err(Failure::config)?;
    let conn = open_migrated(&settings).await?;
    let store = media_store(&conn, &media).await?;
    // A file is written beside its name and renamed once whole, so a failed or interrupted
    // export never leaves something that looks like a backup.
    let partial = output.as_ref().map(|path| {
        let mut name = path.as_os_str().to_owned();
        name.push(".partial");
        PathBuf::from(name)
    });
    let (sink, gzip): (Box<dyn std::io::Write + Send>, bool) = match (&output, &partial) {
        (Some(path), Some(partial)) => {
            let file = std::fs::File::create(partial).map_err(|err| {
                Failure::runtime(format!("cannot write {}: {err}", partial.display()))
            })?;
            let named_gz = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("gz") || e.eq_ignore_ascii_case("tgz"));
            (Box::new(file), gzip || named_gz)
        }
        _ => (Box::new(std::io::stdout()), gzip),
    };
    let written = async {
        let (out, counts) = backup::export(&conn, &store, backup::archive::Output::new(sink, gzip))
            .await
            .map_err(Failure::runtime)?;
        out.finish()
            .map_err(|err| Failure::runtime(format!("cannot write the export: {err}")))?;
        Ok::<_, Failure>(counts)
    }
    .await;
    let counts = match (written, &output, &partial) {
        (Ok(counts), Some(path), Some(partial)) => {
            std::fs::rename(partial, path).map_err(|err| {
                Failure::runtime(format!("cannot write {}: {err}", path.display()))
            })?;
            counts
        }
        (Ok(counts), _, _) => counts,
        (Err(failure), _, partial) => {
            if let Some(partial) = partial {
                let _ = std::fs::remove_file(partial);
            }
            return Err(failure);
        }
    };
    eprintln!("exported {}", counts.summary());
    Ok(())
}

async fn import(file: PathBuf, database: DatabaseArgs, media: MediaArgs) -> Result<(), Failure> {
    telemetry::init(LogFormat::Human);
    let settings = database.settings().map_err(Failure::config)?;
    let input: Box<dyn std::io::Read + Send> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(&file)
                .map_err(|err| Failure::config(format!("cannot read {}: {err}", file.display())))?,
        )
    };
    let conn = open_migrated(&settings).await?;
    let store = media_store(&conn, &media).await?;
    let counts = backup::import(&conn, &store, backup::import::read(input))
        .await
        .map_err(|err| match err {
            backup::BackupError::NotEmpty(_) | backup::BackupError::Format(_) => {
                Failure::config(err)
            }
            other => Failure::runtime(other),
        })?;
    // The export leaves derived data out: render the documents' HTML now, so the first
    // `dermis serve` does not have to (and before the statistics, whose checkpoint is last).
    crate::content::rendered::fill(&conn, &addresses(&media))
        .await
        .map_err(Failure::runtime)?;
    db::refresh_statistics(&conn, true)
        .await
        .map_err(Failure::runtime)?;
    println!("imported {}", counts.summary());
    Ok(())
}

/// Connects to the configured database and brings its schema up to date.
async fn open_migrated(
    settings: &crate::config::DatabaseSettings,
) -> Result<sea_orm::DatabaseConnection, Failure> {
    let conn = db::connect(settings, None)
        .await
        .map_err(Failure::runtime)?;
    db::migrate(&conn).await.map_err(Failure::runtime)?;
    Ok(conn)
}
