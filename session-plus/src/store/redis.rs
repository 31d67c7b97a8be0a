//! [`RedisStore`]: one Redis hash per session, standalone or on a Redis Cluster.
//!
//! Each session is the hash `key_prefix:id`: every field is the hash field `f:<name>` holding the
//! value's JSON text, beside `m`, which holds the creation time, the expiry (Unix seconds) and the
//! permanence (`1` or `0`), separated by spaces. Sessions written before the meta became one field
//! (`m:created`, `m:expires`, `m:permanent`) are read as they are, and moved to `m` by their first
//! write (earlier builds do not read `m`: instances sharing a Redis are upgraded together).
//!
//! A whole session is one key, so on a Cluster it sits on one slot. A load is one `HGETALL`. An
//! update is one Lua script (`HSET` of the changed fields, `HDEL` of the removed ones,
//! `PEXPIREAT`) that writes only if the session exists, so it never revives a deleted one, and
//! that keeps the later of the stored and the new expiry unless the request changed the
//! permanence. A new session is one Lua script that writes only if the key does not exist. A
//! compare-and-set of one field is one Lua script that compares the field's stored text and writes
//! it only if it is the expected one (when the text differs but is the same JSON value spelled
//! otherwise, it runs again with that text). Redis drops expired sessions itself, so no purge task
//! runs.
//!
//! Connections reconnect by themselves: when Redis comes back after an outage, the same store
//! works again without a restart.
//!
//! Redis replicates asynchronously: a write the primary acknowledged can be lost when the primary
//! dies before a replica has it, and a replica is promoted. [`RedisStore::with_wait`] sends
//! `WAIT numreplicas timeout` after every write, pipelined with it on the same connection (so on a
//! Cluster it reaches the key's primary), and fails the write when fewer replicas confirm it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, Pipeline, RedisFuture, RedisWrite, Script, ToRedisArgs, Value as RedisValue};
use serde_json::{Map, Value};

use super::cas::{self, TextTry};
use super::{CasOutcome, Error, Record, Result, SessionStore, StoredFields, UnparsedRecord, Update};

const FIELD: &str = "f:";
/// The hash field of the meta: `<created> <expires> <permanent>`.
const META: &str = "m";
/// The meta's hash fields before it became one (still read, and moved to [`META`] by a write).
const EARLIER_CREATED: &str = "m:created";
const EARLIER_EXPIRES: &str = "m:expires";
const EARLIER_PERMANENT: &str = "m:permanent";

/// Creates the hash unless the key exists. KEYS[1]; ARGV: expiry in ms, then field/value pairs.
const CREATE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1";

/// The start of the scripts that change a session: reads its meta into `created`, `expires` and
/// `permanent` (texts), or answers `$no_session` when the hash is no session. `earlier` tells a
/// hash in the earlier layout (three meta fields), which `write_meta!` moves to `m`.
macro_rules! read_meta {
    ($no_session:literal) => {
        concat!(
            r"
local created, expires, permanent
local meta = redis.call('HGET', KEYS[1], 'm')
local earlier = not meta
if meta then
  created, expires, permanent = string.match(meta, '^(%S+) (%S+) (%S+)$')
  if not created then return redis.error_reply('session-plus: malformed meta field m') end
else
  created = redis.call('HGET', KEYS[1], 'm:created')
  if not created then return ",
            $no_session,
            r" end
  expires = redis.call('HGET', KEYS[1], 'm:expires') or ''
  permanent = redis.call('HGET', KEYS[1], 'm:permanent') or '0'
end"
        )
    };
}

/// The end of the scripts that change a session: one `HSET` of the meta read by `read_meta!` (as
/// changed since) as `m`, with the hash fields and values `$fields` gives, in place of the earlier
/// layout's three fields.
macro_rules! write_meta {
    ($fields:literal) => {
        concat!(
            r"
if earlier then redis.call('HDEL', KEYS[1], 'm:created', 'm:expires', 'm:permanent') end
redis.call('HSET', KEYS[1], 'm', created .. ' ' .. expires .. ' ' .. permanent, ",
            $fields,
            ")"
        )
    };
}

/// Updates the hash if it is a session. KEYS[1]; ARGV: expiry in s, the same in ms, permanence
/// (`1`, `0`, or empty: unchanged), how many fields are removed, their names, then field/value
/// pairs. Without a new permanence the expiry only moves forward (compared as numbers, written
/// as the text given, so no float formatting reaches the hash).
const UPDATE: &str = concat!(
    read_meta!("0"),
    r"
local later = true
if ARGV[3] == '' then
  local current = tonumber(expires)
  later = current == nil or tonumber(ARGV[1]) > current
else
  permanent = ARGV[3]
end
local removed = tonumber(ARGV[4])
if removed > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 5, 4 + removed)) end
if later then
  expires = ARGV[1]
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end",
    write_meta!("unpack(ARGV, 5 + removed)"),
    r"
return 1"
);

/// Sets one field of the hash if it is a session and the field still holds the text given.
/// KEYS[1]; ARGV: the hash field, `1` if a text is expected (`0`: the field must be absent),
/// that text, the new text, the expiry in s, the same in ms. Answers `{1}` when written, `{-1}`
/// when there is no session, `{0, text}` with the stored text (`nil`: absent) when it differs.
/// The expiry only moves forward; the permanence stays.
const COMPARE_AND_SET_FIELD: &str = concat!(
    read_meta!("{-1}"),
    r"
local current = redis.call('HGET', KEYS[1], ARGV[1])
local same
if ARGV[2] == '1' then same = current == ARGV[3] else same = current == false end
if not same then return {0, current} end
local stored = tonumber(expires)
if stored == nil or tonumber(ARGV[5]) > stored then
  expires = ARGV[5]
  redis.call('PEXPIREAT', KEYS[1], ARGV[6])
end",
    write_meta!("ARGV[1], ARGV[4]"),
    r"
return {1}"
);

/// Replaces a whole value only if it is still the one read. KEYS[1]; ARGV: the value read, the
/// new value, its time to live in milliseconds. Answers 1 when written, -1 when the key is gone, and
/// when the value changed meanwhile, the value now stored and its time to live in ms (so that a
/// retry needs no read). The comparison is of bytes, so the script knows nothing of
/// the value's format.
#[cfg(feature = "flask")]
const COMPARE_AND_SET: &str = r"
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
if current ~= ARGV[1] then return {current, redis.call('PTTL', KEYS[1])} end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1";

/// A Redis-backed store.
///
/// ```no_run
/// use session_plus::store::RedisStore;
/// # async fn run() -> Result<(), session_plus::store::Error> {
/// let standalone = RedisStore::connect("redis://127.0.0.1:6379/0").await?;
/// let cluster = RedisStore::connect_cluster(&["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"]).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: Connection,
    create: Arc<Script>,
    update: Arc<Script>,
    wait: Option<Wait>,
}

/// `WAIT`'s arguments: how many replicas must confirm a write, and for how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Wait {
    replicas: u32,
    timeout: Duration,
}

/// The longest [`RedisStore::with_wait`] timeout: under the client's two-second response timeout,
/// which would otherwise end the pipeline first with a less clear error.
pub const MAX_WAIT_TIMEOUT: Duration = Duration::from_millis(1_500);

/// A write the primary applied but fewer replicas than asked confirmed within the timeout
/// ([`RedisStore::with_wait`]). It stays on the primary, and is lost only if the primary fails
/// before a replica has it; the save is reported as failed all the same, because it is not
/// confirmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the write reached the Redis primary but only {acknowledged} of {wanted} replicas confirmed it within \
     {timeout_ms} ms (WAIT): it is not confirmed, and a failover now could lose it"
)]
#[non_exhaustive]
pub struct ReplicationError {
    /// How many replicas confirmed the write.
    pub acknowledged: u32,
    /// How many were asked for.
    pub wanted: u32,
    /// How long the primary waited, in milliseconds.
    pub timeout_ms: u64,
}

#[derive(Clone)]
enum Connection {
    Standalone(ConnectionManager),
    Cluster(ClusterConnection),
}

impl RedisStore {
    /// Connects by URL: `redis://host:port/db` (or `rediss://` for TLS, verified with the system's
    /// roots) for a standalone server, or `redis+cluster://host1:port1,host2:port2,...` (or
    /// `rediss+cluster://` for TLS) for a Cluster. Connections time out after two seconds and
    /// reconnect by themselves. The connection is made (and TLS verified) before this returns.
    ///
    /// # Errors
    /// The URL is invalid or no server answers.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::open(url, None).await
    }

    /// As [`connect`](Self::connect), over TLS verified with the CA certificates (PEM) of the
    /// file `ca_file` instead of the system's roots. The URL must ask for TLS: `rediss://…` or
    /// `rediss+cluster://…`.
    ///
    /// ```no_run
    /// use session_plus::store::RedisStore;
    /// # async fn run() -> Result<(), session_plus::store::Error> {
    /// let store = RedisStore::connect_with_tls_ca_file("rediss://redis.internal:6380/0", "ca.pem").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The file cannot be read, the URL does not ask for TLS, no server answers, or the server's
    /// certificate is not signed by the CA (or does not name the URL's host).
    pub async fn connect_with_tls_ca_file(url: &str, ca_file: impl AsRef<std::path::Path>) -> Result<Self> {
        let ca_file = ca_file.as_ref();
        let pem = std::fs::read(ca_file)
            .map_err(|e| Error::Backend(format!("cannot read the CA file {}: {e}", ca_file.display()).into()))?;
        if !url.starts_with("rediss://") && !url.starts_with("rediss+cluster://") {
            let message = "a CA file was given but the URL does not ask for TLS: use rediss:// or rediss+cluster://";
            return Err(Error::Backend(message.into()));
        }
        Self::open(url, Some(pem)).await
    }

    async fn open(url: &str, ca_pem: Option<Vec<u8>>) -> Result<Self> {
        let certificates = ca_pem.map(|pem| redis::TlsCertificates { client_tls: None, root_cert: Some(pem) });
        if certificates.is_some() || url.starts_with("rediss") {
            install_crypto_provider();
        }
        let cluster = [("redis+cluster://", "redis://"), ("rediss+cluster://", "rediss://")]
            .into_iter()
            .find_map(|(scheme, node_scheme)| url.strip_prefix(scheme).map(|nodes| (nodes, node_scheme)));
        if let Some((nodes, node_scheme)) = cluster {
            let nodes: Vec<String> = nodes.split(',').map(|node| format!("{node_scheme}{}", node.trim())).collect();
            return Self::open_cluster(nodes.iter().map(String::as_str), certificates).await;
        }
        let client = match certificates {
            Some(certificates) => redis::Client::build_with_tls(url, certificates),
            None => redis::Client::open(url),
        }
        .map_err(backend)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        let manager = ConnectionManager::new_with_config(client, config).await.map_err(backend)?;
        Ok(Self::new(manager))
    }

    /// Connects to a Redis Cluster through any of its `nodes` (`redis://host:port` each, or
    /// `rediss://host:port` for TLS), checking that the Cluster answers (`PING`).
    ///
    /// # Errors
    /// A URL is invalid or no node answers.
    pub async fn connect_cluster(nodes: &[&str]) -> Result<Self> {
        Self::open_cluster(nodes.iter().copied(), None).await
    }

    async fn open_cluster<'a>(
        nodes: impl Iterator<Item = &'a str>,
        certificates: Option<redis::TlsCertificates>,
    ) -> Result<Self> {
        let mut builder = ClusterClient::builder(nodes)
            .connection_timeout(Duration::from_secs(2))
            .response_timeout(Duration::from_secs(2))
            .retries(1);
        if let Some(certificates) = certificates {
            builder = builder.certs(certificates);
        }
        let client = builder.build().map_err(backend)?;
        let mut connection = client.get_async_connection().await.map_err(backend)?;
        // The client connects lazily to some nodes: a PING makes the first round trip now, so a
        // refused certificate fails here, at start-up.
        redis::cmd("PING").query_async::<()>(&mut connection).await.map_err(backend)?;
        Ok(Self::new_cluster(connection))
    }

    /// Uses a standalone connection your application made (its own timeouts, TLS, credentials).
    ///
    /// ```no_run
    /// use session_plus::store::RedisStore;
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379/0")?;
    /// let store = RedisStore::new(redis::aio::ConnectionManager::new(client).await?);
    /// # let _ = store; Ok(()) }
    /// ```
    pub fn new(connection: ConnectionManager) -> Self {
        Self::with_connection(Connection::Standalone(connection))
    }

    /// Uses a Cluster connection your application made.
    pub fn new_cluster(connection: ClusterConnection) -> Self {
        Self::with_connection(Connection::Cluster(connection))
    }

    fn with_connection(connection: Connection) -> Self {
        Self { connection, create: Arc::new(Script::new(CREATE)), update: Arc::new(Script::new(UPDATE)), wait: None }
    }

    /// Makes every write wait until `replicas` replicas have it, for at most `timeout`: Redis's
    /// `WAIT`, sent in one pipeline with the write on the same connection (on a Cluster, to the
    /// key's primary). A write that fewer replicas confirm in time fails with a
    /// [`ReplicationError`] (the session's save fails: `save_error_status`), though the primary
    /// keeps it. `replicas = 0` turns it off. The timeout is capped at [`MAX_WAIT_TIMEOUT`], and
    /// at least one millisecond (`WAIT` with 0 would block for ever).
    ///
    /// It narrows, but does not close, the window in which a failover loses acknowledged writes:
    /// Redis can still promote a replica that missed a write. Its cost: every write waits for a
    /// replica's acknowledgement, and `WAIT` holds up the connection it is sent on, which this
    /// store shares among all requests to one node: while fewer replicas are up, each write
    /// waits the whole `timeout` and every other command to that node queues behind it (the
    /// failover measurements of BENCHMARKS.md show what that does to a Cluster's throughput).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_plus::store::RedisStore;
    /// # async fn run() -> Result<(), session_plus::store::Error> {
    /// let store = RedisStore::connect("redis+cluster://10.0.0.1:7000,10.0.0.2:7000").await?
    ///     .with_wait(1, Duration::from_millis(100));
    /// # let _ = store; Ok(()) }
    /// ```
    #[must_use]
    pub fn with_wait(mut self, replicas: u32, timeout: Duration) -> Self {
        let timeout = timeout.clamp(Duration::from_millis(1), MAX_WAIT_TIMEOUT);
        self.wait = (replicas > 0).then_some(Wait { replicas, timeout });
        self
    }

    /// Runs one write command, followed by `WAIT` when [`with_wait`](Self::with_wait) asked for
    /// it: both in one pipeline, so one round trip and the same connection (and Cluster node).
    async fn write<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T> {
        let mut connection = self.connection.clone();
        let Some(wait) = self.wait else {
            return cmd.query_async(&mut connection).await.map_err(backend);
        };
        let timeout_ms = u64::try_from(wait.timeout.as_millis()).unwrap_or(u64::MAX);
        let mut pipeline = redis::pipe();
        pipeline.add_command(cmd.clone()).cmd("WAIT").arg(wait.replicas).arg(timeout_ms);
        let (value, acknowledged): (T, u32) = pipeline.query_async(&mut connection).await.map_err(backend)?;
        if acknowledged < wait.replicas {
            let error = ReplicationError { acknowledged, wanted: wait.replicas, timeout_ms };
            return Err(Error::Backend(Box::new(error)));
        }
        Ok(value)
    }

    /// Runs a write script's call (made by [`script_call`]) through [`write`](Self::write),
    /// loading the script first when the server does not know it (a fresh server, or a promoted
    /// replica).
    async fn write_script<T: FromRedisValue>(&self, script: &Script, call: &Cmd) -> Result<T> {
        match self.write(call).await {
            Err(Error::Backend(error)) if is_no_script(&*error) => {
                // Routed to every node on a Cluster, so the retry finds it wherever it lands.
                let mut connection = self.connection.clone();
                script.load_async(&mut connection).await.map_err(backend)?;
                self.write(call).await
            }
            other => other,
        }
    }

    async fn run_script(&self, script: &Script, call: &Cmd) -> Result<bool> {
        let done: i64 = self.write_script(script, call).await?;
        Ok(done == 1)
    }
}

/// The command `name`, with room for `args` more arguments of about `bytes` bytes in all.
/// `redis::cmd` starts from empty buffers, and each time they grow they copy what was written
/// (four times in a session update): an estimate, even a rough one, spares that.
fn command(name: &str, args: usize, bytes: usize) -> Cmd {
    let mut cmd = Cmd::with_capacity(1 + args, name.len() + bytes);
    cmd.arg(name);
    cmd
}

/// `EVALSHA <script's hash> 1 <key>`, to which the caller adds the script's arguments (`args`
/// of them, of about `bytes` bytes): written straight into the command, with no argument list
/// in between.
fn script_call(script: &Script, key: &str, args: usize, bytes: usize) -> Cmd {
    let mut call = command("EVALSHA", 3 + args, script.get_hash().len() + 1 + key.len() + bytes);
    call.arg(script.get_hash()).arg(1).arg(key);
    call
}

/// About how many bytes the arguments of `fields` take as hash fields and JSON texts (a guess
/// for the values, which are not serialized yet).
fn fields_size(fields: &Map<String, Value>) -> usize {
    fields.keys().map(|name| FIELD.len() + name.len() + 32).sum()
}

/// Whether a store error is Redis's `NOSCRIPT` (the script is not in the server's cache).
fn is_no_script(error: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    error
        .downcast_ref::<redis::RedisError>()
        .is_some_and(|e| e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript))
}

/// How `set_expiring` treats an existing key.
#[cfg(feature = "flask")]
#[derive(Debug, Clone, Copy)]
pub(crate) enum SetMode {
    /// Only if the key does not exist.
    IfAbsent,
    /// Only if the key exists.
    IfPresent,
}

#[cfg(feature = "flask")]
impl RedisStore {
    /// The value under `key` and its remaining time to live in milliseconds (-1: none), in one
    /// round trip.
    pub(crate) async fn get_with_ttl(&self, key: &str) -> Result<Option<(Vec<u8>, i64)>> {
        let mut connection = self.connection.clone();
        let (value, ttl): (Option<Vec<u8>>, i64) =
            redis::pipe().get(key).pttl(key).query_async(&mut connection).await.map_err(backend)?;
        Ok(value.map(|value| (value, ttl)))
    }

    /// Replaces the value under `key` with `value` (time to live `ttl_ms` milliseconds) only if it is
    /// still `read`, in one atomic script. When another write came first, the reply carries the
    /// value that write left, so a retry needs no second read.
    pub(crate) async fn replace_if_unchanged(
        &self,
        key: &str,
        read: &[u8],
        value: &[u8],
        ttl_ms: u64,
    ) -> Result<Replaced> {
        static SCRIPT: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| Script::new(COMPARE_AND_SET));
        let mut call = script_call(&SCRIPT, key, 3, read.len() + value.len() + 20);
        call.arg(read).arg(value).arg(ttl_ms.max(1));
        let reply: RedisValue = self.write_script(&SCRIPT, &call).await?;
        Replaced::from_reply(reply)
    }

    /// `SET key value PX ttl_ms NX|XX`, the atomic form of `PSETEX`: whether it was written.
    pub(crate) async fn set_expiring(&self, key: &str, value: &[u8], ttl_ms: u64, mode: SetMode) -> Result<bool> {
        let mut cmd = command("SET", 5, key.len() + value.len() + 24);
        cmd.arg(key).arg(value).arg("PX").arg(ttl_ms.max(1));
        cmd.arg(match mode {
            SetMode::IfAbsent => "NX",
            SetMode::IfPresent => "XX",
        });
        let done: Option<String> = self.write(&cmd).await?;
        Ok(done.is_some())
    }
}

/// What [`RedisStore::replace_if_unchanged`] did.
#[cfg(feature = "flask")]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Replaced {
    Written,
    /// Another write came first: the value it left and its time to live in milliseconds (-1:
    /// none).
    Changed {
        value: Vec<u8>,
        ttl_ms: i64,
    },
    /// The key is gone.
    Gone,
}

#[cfg(feature = "flask")]
impl Replaced {
    /// Reads the `COMPARE_AND_SET` script's reply: `1`, `-1`, or the current value and its
    /// time to live.
    fn from_reply(reply: RedisValue) -> Result<Self> {
        match reply {
            RedisValue::Int(1) => Ok(Self::Written),
            RedisValue::Int(-1) => Ok(Self::Gone),
            reply @ RedisValue::Array(_) => match <(Vec<u8>, i64)>::from_redis_value(reply) {
                Ok((value, ttl_ms)) => Ok(Self::Changed { value, ttl_ms }),
                Err(error) => Err(Error::Backend(Box::new(error))),
            },
            other => Err(Error::Backend(format!("unexpected compare-and-set reply: {other:?}").into())),
        }
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.connection {
            Connection::Standalone(_) => "standalone",
            Connection::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisStore").field("connection", &kind).field("wait", &self.wait).finish_non_exhaustive()
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, RedisValue> {
        match self {
            Self::Standalone(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<RedisValue>> {
        match self {
            Self::Standalone(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Standalone(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn load(&self, key: &str) -> Result<Option<Record>> {
        UnparsedRecord::parsed(self.load_unparsed(key).await?)
    }

    async fn load_unparsed(&self, key: &str) -> Result<Option<UnparsedRecord>> {
        let mut connection = self.connection.clone();
        // Pairs in a list, names and values as bytes: no hashing of names, and a UTF-8 check only
        // of the field names kept (the JSON's parser checks the values anyway).
        let hash: Vec<(Vec<u8>, Vec<u8>)> =
            command("HGETALL", 1, key.len()).arg(key).query_async(&mut connection).await.map_err(backend)?;
        let mut record = UnparsedRecord::from(Record::default());
        let mut fields = Vec::with_capacity(hash.len());
        // Only `create` writes the meta: a hash without it is no session (such as the remnant
        // that earlier versions' updates could leave when they raced a deletion). `m` and the
        // earlier layout's fields are never both there: one script writes the one and removes
        // the others.
        let mut is_session = false;
        for (mut name, value) in hash {
            if name.starts_with(FIELD.as_bytes()) {
                name.drain(..FIELD.len()); // in place: no new string
                fields.push((String::from_utf8(name).map_err(decode)?, value));
                continue;
            }
            let text = std::str::from_utf8(&value).map_err(decode)?;
            match name.as_slice() {
                name if name == META.as_bytes() => {
                    (record.created_at, record.expires_at, record.permanent) = parse_meta(text)?;
                    is_session = true;
                }
                name if name == EARLIER_CREATED.as_bytes() => {
                    record.created_at = text.parse().map_err(decode)?;
                    is_session = true;
                }
                name if name == EARLIER_EXPIRES.as_bytes() => record.expires_at = text.parse().map_err(decode)?,
                name if name == EARLIER_PERMANENT.as_bytes() => record.permanent = text == "1",
                _ => {} // written by a newer version: ignored, kept
            }
        }
        if !is_session {
            return Ok(None);
        }
        record.fields = StoredFields::PerField(fields);
        Ok(Some(record))
    }

    async fn create(&self, key: &str, record: &Record) -> Result<bool> {
        let args = 3 + 2 * record.fields.len();
        let mut call = script_call(&self.create, key, args, 64 + fields_size(&record.fields));
        call.arg(expiry_ms(record.expires_at));
        call.arg(META).arg(meta_text(record));
        push_fields(&mut call, &record.fields);
        self.run_script(&self.create, &call).await
    }

    async fn update(&self, key: &str, update: &Update) -> Result<bool> {
        // One script, so the existence check, the writes and the expiry are one atomic step.
        let permanent = match update.permanent {
            Some(true) => "1",
            Some(false) => "0",
            None => "",
        };
        let args = 4 + update.remove.len() + 2 * update.set.len();
        let removed: usize = update.remove.iter().map(|name| FIELD.len() + name.len()).sum();
        let mut call = script_call(&self.update, key, args, 48 + removed + fields_size(&update.set));
        call.arg(update.expires_at).arg(expiry_ms(update.expires_at)).arg(permanent).arg(update.remove.len());
        for field in &update.remove {
            call.arg(HashField(field));
        }
        push_fields(&mut call, &update.set);
        self.run_script(&self.update, &call).await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        field: &str,
        expected: Option<&Value>,
        new: &Value,
        expires_at: i64,
    ) -> Result<CasOutcome> {
        static SCRIPT: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| Script::new(COMPARE_AND_SET_FIELD));
        // One script on one key: atomic, on a Cluster too. It compares texts; `by_text` retries
        // with the stored spelling of an equal value.
        cas::by_text(expected, |text| {
            let bytes = FIELD.len() + field.len() + text.as_ref().map_or(0, String::len) * 2 + 48;
            let mut call = script_call(&SCRIPT, key, 6, bytes);
            call.arg(HashField(field)).arg(if text.is_some() { "1" } else { "0" });
            call.arg(text.unwrap_or_default()).arg(JsonText(new)).arg(expires_at).arg(expiry_ms(expires_at));
            async move {
                let answer: Vec<RedisValue> = self.write_script(&SCRIPT, &call).await?;
                match answer.as_slice() {
                    [RedisValue::Int(1)] => Ok(TextTry::Set),
                    [RedisValue::Int(-1)] => Ok(TextTry::NoRecord),
                    [RedisValue::Int(0)] | [RedisValue::Int(0), RedisValue::Nil] => Ok(TextTry::Differs(None)),
                    [RedisValue::Int(0), RedisValue::BulkString(stored)] => {
                        Ok(TextTry::Differs(Some(String::from_utf8(stored.clone()).map_err(decode)?)))
                    }
                    _ => Err(Error::Backend("unexpected answer from the compare-and-set script".into())),
                }
            }
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let deleted: i64 = self.write(command("DEL", 1, key.len()).arg(key)).await?;
        Ok(deleted > 0)
    }

    async fn purge_expired(&self, _now: i64) -> Result<u64> {
        Ok(0) // Redis expires keys itself (PEXPIREAT).
    }

    fn expires_natively(&self) -> bool {
        true
    }

    fn backend_name(&self) -> &'static str {
        match self.connection {
            Connection::Standalone(_) => "redis",
            Connection::Cluster(_) => "redis-cluster",
        }
    }
}

/// Adds each field's hash field name and JSON text to a script's call.
fn push_fields(call: &mut Cmd, fields: &Map<String, Value>) {
    for (field, value) in fields {
        call.arg(HashField(field)).arg(JsonText(value));
    }
}

/// The meta field `m` of a new session: `<created> <expires> <permanent>` (the scripts write
/// the same from Lua, [`write_meta!`]).
fn meta_text(record: &Record) -> String {
    let permanent = if record.permanent { 1 } else { 0 };
    format!("{} {} {permanent}", record.created_at, record.expires_at)
}

/// Reads the meta field `m`, as [`meta_text`] writes it.
fn parse_meta(text: &str) -> Result<(i64, i64, bool)> {
    let mut parts = text.split(' ');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(created), Some(expires), Some(permanent), None) => {
            Ok((created.parse().map_err(decode)?, expires.parse().map_err(decode)?, permanent == "1"))
        }
        _ => Err(Error::Decode(format!("malformed meta field {META:?}: {text:?}").into())),
    }
}

/// The expiry in Unix milliseconds, for `PEXPIREAT`.
fn expiry_ms(expires_at: i64) -> i64 {
    expires_at.saturating_mul(1000)
}

/// A session field's hash field name (`f:<name>`) as one argument, written into the command
/// without a string of its own.
struct HashField<'a>(&'a str);

impl ToRedisArgs for HashField<'_> {
    fn write_redis_args<W: ?Sized + RedisWrite>(&self, out: &mut W) {
        out.write_arg_fmt(format_args!("{FIELD}{}", self.0));
    }
}

/// A value's JSON text as one argument, serialized straight into the command.
struct JsonText<'a>(&'a Value);

impl ToRedisArgs for JsonText<'_> {
    fn write_redis_args<W: ?Sized + RedisWrite>(&self, out: &mut W) {
        // A `Value` always serializes (its keys are strings) and the command's buffer takes every
        // byte: this cannot fail.
        let _ = serde_json::to_writer(out.writer_for_next_arg(), self.0);
    }
}

/// Makes ring rustls's process-wide crypto provider, unless one is installed: the redis crate
/// enables none itself, and rustls picks none when both ring and aws-lc-rs are compiled in.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Fails only when another thread installed one meanwhile, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

fn backend(error: redis::RedisError) -> Error {
    Error::Backend(Box::new(error))
}

fn decode(error: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Decode(Box::new(error))
}
