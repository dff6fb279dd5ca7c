//! A fresh PostgreSQL database per test, on the server `GBCS_POSTGRES_URL` names (CI starts a
//! private one with `.ci/postgres` and sets `GBCS_REQUIRE_POSTGRES=1`). Without the variable
//! a test skips, and says so on the real standard error; with `GBCS_REQUIRE_POSTGRES` set it
//! fails instead.
#![allow(dead_code)]

#[path = "skip.rs"]
mod skip;

/// The URL of a new, empty database named after `name` and this process, or `None` (the
/// test skips) when no server is given.
pub fn fresh_db(name: &str) -> Option<String> {
    let Some(base) = std::env::var("GBCS_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            !skip::required("GBCS_REQUIRE_POSTGRES"),
            "GBCS_REQUIRE_POSTGRES is set but GBCS_POSTGRES_URL is not"
        );
        skip::skipped(
            "PostgreSQL",
            "GBCS_POSTGRES_URL is not set (eval \"$(.ci/postgres)\" starts a private server; CI does and sets GBCS_REQUIRE_POSTGRES=1)",
        );
        return None;
    };
    let db = format!("gbcs_{}_{}", name, std::process::id());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls)
        .expect("the server GBCS_POSTGRES_URL names");
    admin
        .simple_query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .expect("the last run's database dropped");
    admin
        .simple_query(&format!("CREATE DATABASE {db}"))
        .expect("a fresh database");
    Some(with_database(&base, &db))
}

/// `url` with its database replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (head, query) = url
        .split_once('?')
        .map_or((url, None), |(h, q)| (h, Some(q)));
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let host_end = head[scheme_end..]
        .find('/')
        .map_or(head.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", &head[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Ends every connection to `db` but this one's: the server going away, as its clients see it.
pub fn terminate_connections(url: &str, db: &str) -> u64 {
    let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    c.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        &[&db],
    )
    .expect("terminate")
    .len() as u64
}

/// How many connections `db` has now.
pub fn connections(url: &str, db: &str) -> i64 {
    let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    c.query_one(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1",
        &[&db],
    )
    .expect("count")
    .get(0)
}
