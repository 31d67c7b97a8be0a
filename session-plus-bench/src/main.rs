//! The session-plus benchmark harness.
//!
//! `session-plus-bench run` starts every variant (bare axum, axum-extra's `SignedCookieJar`,
//! tower-sessions and session-plus on memory, SQLite and Redis) as a server process of its own,
//! creates one session on each with `POST /setup`, then loads `/hit`, `/read` and `/csrf` with
//! `wrk` from a separate process over loopback, variant after variant in interleaved rounds, and
//! prints the medians, the ratios to bare axum and to each variant's counterpart, p50/p99 latency
//! and peak RSS. `session-plus-bench serve` is one such server; `session-plus-bench
//! memory-footprint` measures a session-plus `MemoryStore` holding a million sessions;
//! `session-plus-bench failover` loads app instances on a Redis Cluster while a primary is
//! killed (scripts/cluster-failover.sh).

mod client;
mod failover;
mod instructions;
mod report;
mod variants;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use report::{Sample, Summary};
use variants::{Variant, CSRF_TOKEN};

/// The routes under load, in the order each round runs them.
const ROUTES: &[&str] = &["/hit", "/read", "/csrf"];

/// Where Redis is unless `--redis` says otherwise.
const DEFAULT_REDIS: &str = "redis://127.0.0.1:6379/0";

const USAGE: &str = "\
usage: session-plus-bench [run] [--rounds 3] [--seconds 5] [--warmup 1] [--threads 2] [--connections 32]
                          [--variants a,b,..] [--routes /hit,/read,/csrf] [--redis URL] [--out FILE.md]
       session-plus-bench serve --variant NAME [--port 0] [--dir DIR] [--redis URL]
       session-plus-bench memory-footprint [--sessions 1000000]
       session-plus-bench in-process --variant NAME [--route /csrf] [--requests 1000000] [--dir DIR] [--redis URL]
       session-plus-bench instructions [--variants a,b,..] [--routes /hit,/read,/csrf] [--small 2000] [--large 6000] [--repeat 1]
       session-plus-bench failover --apps HOST:PORT,HOST:PORT [--visitors 2000] [--concurrency 32] [--seconds 30]
                          [--kill-pid PID --kill-after 10] [--restart CMD --restart-after 20] [--watch HOST:PORT]
                          [--cluster HOST:PORT] [--label TEXT]   (scripts/cluster-failover.sh runs it)

variants: axum, signed-jar, ts-memory, sp-memory, sp-memory-bound, ts-sqlite, sp-sqlite, ts-redis, sp-redis,
          and, only when --variants names them, sp-mongodb (SESSION_PLUS_MONGODB_URL; built with
          --features mongodb), sp-firestore (FIRESTORE_EMULATOR_HOST), sp-redis-cluster and
          sp-redis-cluster-wait (WAIT 1 after each write; SESSION_PLUS_REDIS_CLUSTER_URL), on the
          servers scripts/services.sh starts, sp-memory-1 / sp-memory-10 (1 and 10 sessions), and
          sp-memory-fields-N / ts-memory-fields-N for N = 1, 10, 100 (a record of N fields; /read, /hit)
`run` needs wrk (Debian: apt-get install -y wrk) and, for the Redis variants, Redis at --redis.";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("memory-footprint") => memory_footprint(&args[1..]),
        Some("in-process") => in_process(&args[1..]),
        Some("instructions") => instructions(&args[1..]),
        Some("failover") => failover::run(&args[1..]),
        Some("run") => run(&args[1..], &args),
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(flag) if flag.starts_with("--") => run(&args, &args),
        None => run(&[], &args),
        Some(other) => Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    if let Err(error) = result {
        eprintln!("session-plus-bench: {error}");
        std::process::exit(1);
    }
}

/// The routes a `--routes /a,/b` list names, or every route.
fn selected_routes(list: Option<&str>) -> Result<Vec<&'static str>, String> {
    match list {
        Some(list) => list
            .split(',')
            .map(|r| ROUTES.iter().copied().find(|known| *known == r).ok_or(format!("unknown route `{r}`")))
            .collect(),
        None => Ok(ROUTES.to_vec()),
    }
}

/// `instructions`: the callgrind table (see the `instructions` module).
fn instructions(args: &[String]) -> Result<(), String> {
    let options = Options::parse(args, &["variants", "routes", "small", "large", "repeat", "dir", "redis"])?;
    let selected = variants::selected(options.get("variants"))?;
    let routes = selected_routes(options.get("routes"))?;
    let dir = std::env::temp_dir().join(format!("session-plus-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let dir = options.get("dir").map_or_else(|| dir.display().to_string(), str::to_owned);
    let redis = options.get("redis").unwrap_or(DEFAULT_REDIS);
    let runs = instructions::Runs {
        small: options.number("small", 2_000)?,
        large: options.number("large", 6_000)?,
        repeat: options.number("repeat", 1)?,
    };
    instructions::run(&selected, &routes, runs, &dir, redis)
}

/// The `--name value` options of a subcommand.
struct Options(BTreeMap<String, String>);

impl Options {
    fn parse(args: &[String], known: &[&str]) -> Result<Self, String> {
        let mut options = BTreeMap::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let name = arg.strip_prefix("--").ok_or_else(|| format!("expected --option, got `{arg}`\n{USAGE}"))?;
            if !known.contains(&name) {
                return Err(format!("unknown option --{name}\n{USAGE}"));
            }
            let value = args.next().ok_or_else(|| format!("--{name} needs a value"))?;
            options.insert(name.to_owned(), value.clone());
        }
        Ok(Self(options))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn number(&self, name: &str, default: u64) -> Result<u64, String> {
        self.get(name).map_or(Ok(default), |v| v.parse().map_err(|_| format!("--{name} takes a whole number")))
    }
}

/// `serve`: one server process. Prints `listening ADDRESS` once it accepts connections.
fn serve(args: &[String]) -> Result<(), String> {
    let options = Options::parse(args, &["variant", "port", "dir", "redis"])?;
    let variant = options.get("variant").ok_or("--variant is required")?.to_owned();
    let port = u16::try_from(options.number("port", 0)?).map_err(|_| "--port is at most 65535")?;
    let dir = options.get("dir").map_or_else(|| std::env::temp_dir().display().to_string(), str::to_owned);
    let redis = options.get("redis").unwrap_or(DEFAULT_REDIS).to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let router = variants::router(&variant, &dir, &redis).await?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
        println!("listening {}", listener.local_addr().map_err(|e| e.to_string())?);
        axum::serve(listener, router).await.map_err(|e| e.to_string())
    })
}

/// `in-process`: a variant's router called directly, on one thread, with no socket: the CPU one
/// request costs in the layer and the handler alone (run it under `valgrind --tool=callgrind` to
/// count instructions).
fn in_process(args: &[String]) -> Result<(), String> {
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use tower::ServiceExt;

    let options = Options::parse(args, &["variant", "route", "requests", "dir", "redis"])?;
    let variant = options.get("variant").ok_or("--variant is required")?.to_owned();
    let route = options.get("route").unwrap_or("/csrf").to_owned();
    let requests = options.number("requests", 1_000_000)?;
    let dir = options.get("dir").map_or_else(|| std::env::temp_dir().display().to_string(), str::to_owned);
    let redis = options.get("redis").unwrap_or(DEFAULT_REDIS).to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        // What `axum::serve` does once (`into_make_service`): turns every handler into its route
        // up front, so that the loop measures what a served request costs, not that conversion.
        let router = variants::router(&variant, &dir, &redis).await?.with_state::<()>(());
        let setup = Request::post("/setup").body(Body::empty()).map_err(|e| e.to_string())?;
        let response = router.clone().oneshot(setup).await.map_err(|e| e.to_string())?;
        let cookies: Vec<&str> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next())
            .collect();
        // The `Cookie` header as hyper hands it to a served app: a slice of the connection's
        // shared read buffer, so that a copy of it costs a reference count, not an allocation.
        let cookie = header::HeaderValue::from_maybe_shared(axum::body::Bytes::from(cookies.join("; ")))
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        for _ in 0..requests {
            let request = Request::get(route.as_str())
                .header(header::COOKIE, cookie.clone())
                .body(Body::empty())
                .map_err(|e| e.to_string())?;
            let response = router.clone().oneshot(request).await.map_err(|e| e.to_string())?;
            if response.status() != StatusCode::OK {
                return Err(format!("{variant}: GET {route} answered {}", response.status()));
            }
        }
        let elapsed = started.elapsed();
        #[allow(clippy::cast_precision_loss)] // a request count is far below 2^52
        let per_request = elapsed.as_nanos() as f64 / requests as f64;
        println!(
            "{variant} {route}: {requests} requests in {:.2} s, {per_request:.0} ns per request",
            elapsed.as_secs_f64()
        );
        Ok(())
    })
}

/// A running server process and the `Cookie` header of the session made on it.
struct Server {
    variant: &'static Variant,
    child: Child,
    port: u16,
    cookie: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only our own child, by its handle; it may have exited already.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(variant: &'static Variant, dir: &str, redis: &str) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .args(["serve", "--variant", variant.name, "--port", "0", "--dir", dir, "--redis", redis])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the {} server: {e}", variant.name))?;
        let stdout = child.stdout.take().ok_or("no stdout from the server")?;
        let mut line = String::new();
        // The server prints one line once it listens, or exits with its error on stderr.
        let read = BufReader::new(stdout).read_line(&mut line);
        let mut server = Self { variant, child, port: 0, cookie: String::new() };
        let address = line.trim().strip_prefix("listening ").filter(|_| read.is_ok());
        server.port = address
            .and_then(|a| a.rsplit(':').next()?.parse().ok())
            .ok_or_else(|| format!("the {} server did not start (see its error above)", variant.name))?;
        server.cookie = setup(variant.name, server.port)?;
        Ok(server)
    }

    fn check_alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!("the {} server exited: {status}", self.variant.name)),
            Err(e) => Err(format!("the {} server: {e}", self.variant.name)),
        }
    }
}

/// Creates the session with `POST /setup`, then checks each route once with its cookies.
fn setup(name: &str, port: u16) -> Result<String, String> {
    let response = client::request(port, "POST", "/setup", "")?;
    if response.status != 200 {
        return Err(format!("{name}: POST /setup answered {}: {}", response.status, response.body));
    }
    let cookie = response.set_cookies.join("; ");
    if cookie.is_empty() {
        return Err(format!("{name}: POST /setup set no cookie"));
    }
    let expect = |path: &str, want: &str| -> Result<(), String> {
        let response = client::request(port, "GET", path, &cookie)?;
        if response.status == 200 && response.body == want {
            Ok(())
        } else {
            Err(format!("{name}: GET {path} answered {} `{}`, expected 200 `{want}`", response.status, response.body))
        }
    };
    // A record-size variant's record holds `counter` and fillers only: no `/csrf` there.
    if !name.contains("-fields-") {
        expect("/csrf", CSRF_TOKEN)?;
    }
    expect("/read", "0")?;
    expect("/hit", "1")?;
    Ok(cookie)
}

/// Whether Redis answers `PING` at `url` (`redis://host:port/db`).
fn redis_is_up(url: &str) -> bool {
    use std::io::{Read, Write};
    let authority = url.strip_prefix("redis://").unwrap_or(url);
    let authority = authority.split('/').next().unwrap_or(authority);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let address = if authority.contains(':') { authority.to_owned() } else { format!("{authority}:6379") };
    let Ok(mut stream) = std::net::TcpStream::connect(&address) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut reply = [0u8; 5];
    stream.write_all(b"PING\r\n").is_ok() && stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG"
}

/// Fails with install instructions when wrk is missing.
fn check_wrk() -> Result<(), String> {
    match Command::new("wrk").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "cannot run wrk ({e}). Install it: `apt-get install -y wrk` (Debian/Ubuntu), or build it from \
             https://github.com/wg/wrk and put it on PATH"
        )),
    }
}

/// The load-generator settings of a run.
struct Load {
    threads: u64,
    connections: u64,
}

/// One wrk run against `route` of `server`.
fn wrk(server: &Server, route: &str, seconds: u64, load: &Load) -> Result<Sample, String> {
    let output = Command::new("wrk")
        .args([format!("-t{}", load.threads), format!("-c{}", load.connections), format!("-d{seconds}s")])
        .arg("--latency")
        .args(["-H", &format!("Cookie: {}", server.cookie)])
        .arg(format!("http://127.0.0.1:{}{route}", server.port))
        .output()
        .map_err(|e| format!("cannot run wrk: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("wrk failed ({}): {text}{}", output.status, String::from_utf8_lossy(&output.stderr)));
    }
    let sample = report::parse_wrk(&text).ok_or_else(|| format!("cannot read wrk's output:\n{text}"))?;
    if sample.non_2xx > 0 {
        return Err(format!(
            "{} {route}: {} responses were not 2xx under load:\n{text}",
            server.variant.name, sample.non_2xx
        ));
    }
    Ok(sample)
}

/// `run`: the whole comparison.
fn run(args: &[String], command_line: &[String]) -> Result<(), String> {
    let options = Options::parse(
        args,
        &["rounds", "seconds", "warmup", "threads", "connections", "variants", "routes", "redis", "out"],
    )?;
    let rounds = options.number("rounds", 3)?.max(1);
    let seconds = options.number("seconds", 5)?.max(1);
    let warmup = options.number("warmup", 1)?;
    let load = Load { threads: options.number("threads", 2)?.max(1), connections: options.number("connections", 32)? };
    if load.connections < load.threads {
        return Err("--connections must be at least --threads".into());
    }
    let redis = options.get("redis").unwrap_or(DEFAULT_REDIS).to_owned();
    let routes = selected_routes(options.get("routes"))?;
    let mut selected = variants::selected(options.get("variants"))?;
    check_wrk()?;
    let mut notes = Vec::new();
    if selected.iter().any(|v| v.redis) && !redis_is_up(&redis) {
        let note = format!(
            "Redis does not answer at {redis}: the Redis variants were skipped. Start it with \
             `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no`."
        );
        eprintln!("warning: {note}");
        notes.push(note);
        selected.retain(|v| !v.redis);
    }

    let load_before = load_average();
    if load_before.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()).is_some_and(|one| one > 1.0) {
        eprintln!("warning: the machine is busy (load average {load_before}); results will be noisy");
    }
    let dir = std::env::temp_dir().join(format!("session-plus-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let plan = Plan {
        variants: &selected,
        routes: &routes,
        rounds,
        seconds,
        warmup,
        load,
        dir: dir.display().to_string(),
        redis,
    };
    let result = measure(&plan);
    let _ = std::fs::remove_dir_all(&dir);
    let measured = result?;
    notes.extend(measured.socket_errors);
    notes.push(format!(
        "Load average (1, 5, 15 min) before the run: {load_before}; after: {}. The servers and wrk \
         share the machine's cores, so anything else running skews the results.",
        load_average()
    ));

    let summary = Summary::new(&selected, &routes, &measured.samples, &measured.rss);
    let table = summary.table();
    let by_round = report::rounds_table(&selected, &measured.samples);
    println!("\n{table}\n{by_round}");
    if let Some(out) = options.get("out") {
        let invocation = format!("session-plus-bench {}", command_line.join(" "));
        let settings = format!(
            "{rounds} rounds x {seconds} s per route and variant (after a {warmup} s warm-up), \
             `wrk -t{} -c{} -d{seconds}s --latency`",
            plan.load.threads, plan.load.connections
        );
        let markdown = report::markdown(invocation.trim(), &settings, &table, &by_round, &notes);
        std::fs::write(out, markdown).map_err(|e| format!("cannot write {out}: {e}"))?;
        eprintln!("wrote {out}");
    }
    Ok(())
}

/// Per (variant, route), the samples of every round.
type Samples = BTreeMap<(&'static str, &'static str), Vec<Sample>>;

/// What to measure, and how.
struct Plan<'a> {
    variants: &'a [&'static Variant],
    routes: &'a [&'static str],
    rounds: u64,
    seconds: u64,
    warmup: u64,
    load: Load,
    dir: String,
    redis: String,
}

/// What a run measured.
struct Measured {
    samples: Samples,
    /// Each server's peak RSS, in MiB.
    rss: BTreeMap<&'static str, f64>,
    /// wrk's socket errors, one line per run that had some.
    socket_errors: Vec<String>,
}

/// Starts the servers, runs the rounds, and reads each server's peak RSS at the end.
fn measure(plan: &Plan<'_>) -> Result<Measured, String> {
    let Plan { variants: selected, routes, rounds, seconds, warmup, ref load, ref dir, ref redis } = *plan;
    let mut servers = Vec::new();
    for variant in selected {
        let server = Server::start(variant, dir, redis)?;
        eprintln!("{:<10} up on port {}, Cookie: {} bytes", variant.name, server.port, server.cookie.len());
        servers.push(server);
    }
    let started = Instant::now();
    if warmup > 0 {
        eprintln!("warming up: {warmup} s per route and variant");
        for route in routes {
            for server in &servers {
                wrk(server, route, warmup, load)?;
            }
        }
    }
    eprintln!(
        "{} servers, {rounds} rounds x {seconds} s per route and variant, wrk -t{} -c{}",
        servers.len(),
        load.threads,
        load.connections
    );
    let mut samples = Samples::new();
    let mut socket_errors = Vec::new();
    for round in 1..=rounds {
        for route in routes {
            for server in &mut servers {
                let cpu_before = process_cpu_ns(server.child.id());
                let mut sample = wrk(server, route, seconds, load)?;
                if let (Some(before), Some(after)) = (cpu_before, process_cpu_ns(server.child.id())) {
                    // Not finite when wrk counted no request: the table shows `inf` or `NaN`.
                    sample.server_cpu_us = after.saturating_sub(before) as f64 / 1000.0 / sample.requests as f64;
                }
                server.check_alive()?;
                eprintln!(
                    "round {round}/{rounds} {route:<5} {:<10} {:>9.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms  \
                     server CPU {:>6.2} µs/req",
                    server.variant.name, sample.rps, sample.p50_ms, sample.p99_ms, sample.server_cpu_us
                );
                if sample.socket_errors > 0 {
                    socket_errors.push(format!(
                        "round {round}, {route}, {}: wrk reported {} socket errors",
                        server.variant.name, sample.socket_errors
                    ));
                }
                samples.entry((server.variant.name, *route)).or_default().push(sample);
            }
        }
    }
    eprintln!("measured in {:.0} s", started.elapsed().as_secs_f64());
    let rss = servers.iter().map(|s| (s.variant.name, peak_rss_mib(s.child.id()))).collect();
    Ok(Measured { samples, rss, socket_errors })
}

/// The 1, 5 and 15 minute load averages, from `/proc/loadavg`.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// A `/proc/PID/status` field in MiB (the file gives kB).
fn proc_status_mib(pid: &str, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The CPU time process `pid` has used so far, every thread's, in nanoseconds: the sum of the
/// first field of `/proc/<pid>/task/*/schedstat` (`None` off Linux). Threads that already
/// exited are not counted; the servers' runtimes keep theirs.
fn process_cpu_ns(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// The peak resident set (VmHWM) of process `pid`, in MiB.
fn peak_rss_mib(pid: u32) -> f64 {
    proc_status_mib(&pid.to_string(), "VmHWM")
}

/// `memory-footprint`: fills a session-plus `MemoryStore` with live sessions and reports RSS.
fn memory_footprint(args: &[String]) -> Result<(), String> {
    use session_plus::session::Id;
    use session_plus::store::Record;
    use session_plus::store::{MemoryStore, SessionStore};
    let options = Options::parse(args, &["sessions"])?;
    let count = options.number("sessions", 1_000_000)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| e.to_string())?.as_secs();
    let now = i64::try_from(now).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread().build().map_err(|e| e.to_string())?;
    let before = proc_status_mib("self", "VmRSS");
    let store = MemoryStore::new();
    let started = Instant::now();
    runtime.block_on(async {
        for i in 0..count {
            let id = Id::random().map_err(|e| e.to_string())?;
            // What a logged-in visitor's server-side session holds: an id and a little profile.
            let mut record = Record { created_at: now, expires_at: now + 86_400, ..Record::default() };
            record.fields.insert("user_id".into(), (100_000 + i).into());
            record
                .fields
                .insert("user_data".into(), serde_json::json!({ "name": format!("user{i}"), "role": "member" }));
            let created =
                store.create(&format!("session:{}", id.as_str()), &record).await.map_err(|e| e.to_string())?;
            if !created {
                return Err("a random id collided".to_owned());
            }
        }
        Ok::<(), String>(())
    })?;
    let elapsed = started.elapsed();
    let (rss, peak) = (proc_status_mib("self", "VmRSS"), proc_status_mib("self", "VmHWM"));
    let per_session = (rss - before) * 1024.0 * 1024.0 / count.max(1) as f64;
    println!("session-plus MemoryStore, {} live sessions (user_id + user_data, key session:<43-char id>)", store.len());
    println!("  filled in {:.1} s", elapsed.as_secs_f64());
    println!("  RSS before: {before:.1} MiB; after: {rss:.1} MiB; peak (VmHWM): {peak:.1} MiB");
    println!("  about {per_session:.0} bytes per session");
    let verdict = if peak < 1024.0 { "met" } else { "NOT met" };
    println!("  target, under 1 GiB: {verdict}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant answers the setup and each route as the harness expects (Redis variants
    /// only when Redis is up). Checks behaviour only; nothing here is timed.
    #[test]
    fn every_variant_serves_the_routes() {
        let dir = std::env::temp_dir().join(format!("session-plus-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let redis_up = redis_is_up(DEFAULT_REDIS);
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
        // `WAIT 1` needs replicas, which the test script's Cluster does not have: the failover
        // script runs that variant on a Cluster of its own.
        let testable = |v: &&variants::Variant| (redis_up || !v.redis) && v.name != "sp-redis-cluster-wait";
        for variant in variants::VARIANTS.iter().filter(testable) {
            let router = runtime
                .block_on(variants::router(variant.name, &dir.display().to_string(), DEFAULT_REDIS))
                .expect("the variant builds");
            let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("a port on loopback");
            let port = listener.local_addr().expect("an address").port();
            let server = runtime.spawn(async move { axum::serve(listener, router).await });
            let cookie = setup(variant.name, port).unwrap_or_else(|e| panic!("{e}"));
            assert!(!cookie.is_empty());
            server.abort();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
