//! The WHMCS database: connection settings, the per-process pool, and small query helpers.
//!
//! Pools are cached per process and per connection settings, so a PHP-FPM worker reuses its
//! connections across requests. A forked child never touches (or drops) its parent's pool:
//! see [`crate::runtime`].

pub mod migrations;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use mysql_async::prelude::FromRow;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Params, Pool, PoolConstraints, PoolOpts, Row};

use crate::error::{Error, Result};
use crate::runtime::{current_pid, runtime};

/// How long connecting to MariaDB may take before it is reported unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where MariaDB and MySQL put their socket on the common distributions; used for
/// `localhost` without an explicit socket, as PHP's mysqlnd does.
const DEFAULT_SOCKETS: &[&str] = &[
    "/run/mysqld/mysqld.sock",
    "/var/run/mysqld/mysqld.sock",
    "/var/lib/mysql/mysql.sock",
    "/tmp/mysql.sock",
];

/// Connection settings of the WHMCS database (`$db_host`, `$db_port`, `$db_username`,
/// `$db_password`, `$db_name`, and an optional socket).
///
/// # Invariants
/// `database` and `user` are not empty; `port` is 1-65535.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DbConfig {
    host: String,
    port: u16,
    user: String,
    password: String,
    database: String,
    socket: Option<String>,
}

impl DbConfig {
    /// Validates the settings.
    ///
    /// `host` may carry a port (`db.example.com:3307`) as WHMCS allows; an explicit `port`
    /// wins. `localhost` without a socket uses the system's default socket when one exists.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the field when one is empty or out of range.
    pub fn new(
        host: &str,
        port: Option<i64>,
        user: &str,
        password: &str,
        database: &str,
        socket: Option<&str>,
    ) -> Result<Self> {
        let (mut host, mut host_port) = (host.trim().to_string(), None);
        if let Some((h, p)) = host.rsplit_once(':') {
            if !h.contains(':') {
                if let Ok(p) = p.parse::<u16>() {
                    host_port = Some(p);
                    host = h.to_string();
                }
            }
        }
        if host.is_empty() {
            host = "localhost".into();
        }
        let port = match port {
            None | Some(0) => host_port.unwrap_or(3306),
            Some(p) => u16::try_from(p)
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| Error::validation("port", format!("must be 1-65535, got {p}")))?,
        };
        if user.trim().is_empty() {
            return Err(Error::validation(
                "user",
                "is empty - set $db_username in configuration.php",
            ));
        }
        if database.trim().is_empty() {
            return Err(Error::validation(
                "database",
                "is empty - set $db_name in configuration.php",
            ));
        }
        let socket = socket
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .or_else(|| {
                (host == "localhost")
                    .then(|| DEFAULT_SOCKETS.iter().find(|s| Path::new(s).exists()))
                    .flatten()
                    .map(|s| s.to_string())
            });
        Ok(Self {
            host,
            port,
            user: user.trim().to_string(),
            password: password.to_string(),
            database: database.trim().to_string(),
            socket,
        })
    }

    /// The database name.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Where the server is reached, for messages: `127.0.0.1:3306` or `socket /run/...`.
    pub fn endpoint(&self) -> String {
        match &self.socket {
            Some(s) => format!("socket {s}"),
            None => format!("{}:{}", self.host, self.port),
        }
    }

    fn opts(&self) -> OptsBuilder {
        let pool = PoolOpts::default()
            .with_constraints(PoolConstraints::new(0, 32).expect("0 <= 32"))
            .with_inactive_connection_ttl(Duration::from_secs(60));
        let mut opts = OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(Some(self.password.clone()))
            .db_name(Some(self.database.clone()))
            .prefer_socket(false)
            .pool_opts(pool)
            .init(vec![
                "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
                "SET time_zone = '+00:00'",
            ]);
        if let Some(socket) = &self.socket {
            opts = opts.socket(Some(socket.clone()));
        }
        opts
    }
}

static POOLS: Mutex<Option<HashMap<DbConfig, (u32, Pool)>>> = Mutex::new(None);

/// A handle on the WHMCS database. Cheap to clone.
///
/// It holds only the settings: every [`Db::conn`] takes a connection from the pool of the
/// calling process, so a handle made before `fork()` keeps working in both processes.
#[derive(Clone)]
pub struct Db {
    config: DbConfig,
}

impl Db {
    /// A handle for `config`. Opens no connection.
    pub fn open(config: &DbConfig) -> Db {
        Db {
            config: config.clone(),
        }
    }

    /// The pool of this process for these settings, made on first use.
    fn pool(&self) -> Pool {
        let pid = current_pid();
        let mut pools = POOLS.lock().unwrap_or_else(|p| p.into_inner());
        let pools = pools.get_or_insert_with(HashMap::new);
        if let Some((owner, pool)) = pools.get(&self.config) {
            if *owner == pid {
                return pool.clone();
            }
        }
        // The pool must be created inside the runtime it will run on.
        let _guard = runtime().enter();
        let pool = Pool::new(self.config.opts());
        if let Some((_, inherited)) = pools.insert(self.config.clone(), (pid, pool.clone())) {
            // A pool inherited across fork() shares sockets with the parent: never drop it.
            std::mem::forget(inherited);
        }
        pool
    }

    /// The connection settings.
    pub fn config(&self) -> &DbConfig {
        &self.config
    }

    /// A connection for statements that leave no session state behind (no `SET`, user
    /// variables, temporary tables or `GET_LOCK`; any transaction committed or rolled back).
    ///
    /// It goes back to the pool without `COM_RESET_CONNECTION`, so it keeps its prepared
    /// statements: the next user saves the reset and init round trips and a prepare per
    /// statement. The cron pipeline takes several connections per VM and step, where this
    /// is most of the database cost.
    ///
    /// # Errors
    /// As [`Db::conn`].
    pub async fn stateless_conn(&self) -> Result<Conn> {
        let mut conn = self.conn().await?;
        conn.reset_connection(false);
        Ok(conn)
    }

    /// A connection from the pool.
    ///
    /// # Errors
    /// [`Error::Database`] saying which server and why (unreachable, access denied, unknown
    /// database, no answer within 10 s).
    pub async fn conn(&self) -> Result<Conn> {
        let endpoint = self.config.endpoint();
        match tokio::time::timeout(CONNECT_TIMEOUT, self.pool().get_conn()).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(err)) => Err(Error::Database(format!(
                "unable to connect to the WHMCS database '{}' at {endpoint} - {}",
                self.config.database,
                describe_error(&err)
            ))),
            Err(_) => Err(Error::Database(format!(
                "unable to connect to the WHMCS database '{}' at {endpoint} - no answer within {} s; check $db_host and $db_port in configuration.php and that MariaDB is running",
                self.config.database,
                CONNECT_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.conn().await?;
        conn.query_drop("SELECT 1").await?;
        Ok(())
    }
}

/// The first row of `query`, converted to `T`.
///
/// Unlike `Queryable::exec_first::<T>`, a value that does not convert (a column edited by
/// hand, a table that is not ours) is an [`Error::Database`] naming the query, never a panic.
pub async fn first<T, P>(conn: &mut Conn, query: &str, params: P) -> Result<Option<T>>
where
    T: FromRow,
    P: Into<Params> + Send,
{
    let row: Option<Row> = conn.exec_first(query, params).await?;
    row.map(|row| convert(row, query)).transpose()
}

/// Every row of `query`, converted to `T` (see [`first`]).
pub async fn all<T, P>(conn: &mut Conn, query: &str, params: P) -> Result<Vec<T>>
where
    T: FromRow,
    P: Into<Params> + Send,
{
    let rows: Vec<Row> = conn.exec(query, params).await?;
    rows.into_iter().map(|row| convert(row, query)).collect()
}

fn convert<T: FromRow>(row: Row, query: &str) -> Result<T> {
    T::from_row_opt(row).map_err(|e| {
        let short: String = query.chars().take(120).collect();
        Error::Database(format!(
            "unexpected values in the database ({:?}) for: {short}",
            e.0.unwrap()
        ))
    })
}

/// Whether `table` exists in the current database.
pub async fn table_exists(conn: &mut Conn, table: &str) -> Result<bool> {
    let n: Option<u64> = first(
        conn,
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
        (table,),
    )
    .await?;
    Ok(n.unwrap_or(0) > 0)
}

/// The columns of `table`, in order.
pub async fn table_columns(conn: &mut Conn, table: &str) -> Result<Vec<String>> {
    all(
        conn,
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
        (table,),
    )
    .await
}

/// A MariaDB error in words an admin can act on.
pub fn describe_error(err: &mysql_async::Error) -> String {
    use mysql_async::Error as E;
    match err {
        E::Server(s) => match s.code {
            1045 => format!(
                "access denied ({}) - check $db_username and $db_password in configuration.php",
                s.message
            ),
            1049 => format!("{} - check $db_name in configuration.php", s.message),
            1044 | 1142 | 1227 => format!(
                "{} - grant the WHMCS database user the privileges it needs",
                s.message
            ),
            _ => format!("{} (MariaDB error {})", s.message, s.code),
        },
        E::Io(io) => {
            let text = io.to_string();
            if text.contains("refused") {
                format!("{text} - check $db_host and $db_port in configuration.php and that MariaDB is running")
            } else {
                text
            }
        }
        E::Driver(d) => d.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_may_carry_the_port() {
        let c = DbConfig::new("db.example.com:3307", None, "whmcs", "pw", "whmcs", None).unwrap();
        assert_eq!(c.endpoint(), "db.example.com:3307");
        let c = DbConfig::new(
            "db.example.com:3307",
            Some(3310),
            "whmcs",
            "pw",
            "whmcs",
            None,
        )
        .unwrap();
        assert_eq!(c.endpoint(), "db.example.com:3310");
    }

    #[test]
    fn ipv6_host_is_not_split() {
        let c = DbConfig::new("::1", None, "whmcs", "", "whmcs", None).unwrap();
        assert_eq!(c.endpoint(), "::1:3306");
    }

    #[test]
    fn empty_fields_are_named() {
        let e = DbConfig::new("h", None, "", "", "whmcs", None).unwrap_err();
        assert_eq!(e.field(), Some("user"));
        let e = DbConfig::new("h", None, "u", "", " ", None).unwrap_err();
        assert_eq!(e.field(), Some("database"));
        let e = DbConfig::new("h", Some(70000), "u", "", "d", None).unwrap_err();
        assert_eq!(e.field(), Some("port"));
    }

    #[test]
    fn explicit_socket_wins() {
        let c = DbConfig::new("localhost", None, "u", "", "d", Some("/tmp/x.sock")).unwrap();
        assert_eq!(c.endpoint(), "socket /tmp/x.sock");
    }
}
