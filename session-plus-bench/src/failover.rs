//! `failover`: load two (or more) app instances on a Redis Cluster with many visitors, each
//! writing values of its own and checking them at its next request, while a primary is killed;
//! then report, second by second, what the visitors saw.
//!
//! Each visitor holds a session made by `POST /setup` (counter 0) and then calls `POST
//! /swap/{value}` in a loop, with a value of its own that grows by one per attempt, on the app
//! instances in turn. `/swap` answers the value it replaces. A 200 acknowledges the write; a
//! failure leaves it unknown (applied or not). The value a 200 answers must be the last
//! acknowledged one or one of the unknown attempts after it: anything older means an
//! acknowledged write was lost, and `none` that the whole session was. After the load, every
//! visitor reads its value once more (`GET /read`), which catches the losses of the last writes.
//!
//! The driver kills the primary itself (`kill -KILL PID` at `--kill-after` seconds) so that the
//! timeline has one clock, watches a replica's `ROLE` and a node's `CLUSTER INFO` every 20 ms
//! (plain RESP over TCP), and may restart the killed node (`--restart-after`, a shell command).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{COOKIE, SET_COOKIE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Options;

/// What the driver was asked to do.
struct Plan {
    apps: Vec<String>,
    visitors: usize,
    concurrency: usize,
    seconds: u64,
    kill: Option<(String, u64)>,
    restart: Option<(String, u64)>,
    watch: Option<String>,
    cluster: Option<String>,
    label: String,
}

/// One visitor's cookies and what it knows of its value.
struct Visitor {
    /// `name=value` of each cookie, by name.
    cookies: BTreeMap<String, String>,
    /// The next value it writes (each attempt takes one).
    next: u64,
    /// The last value a 200 acknowledged, and when (seconds since the start).
    acked: u64,
    acked_at: f64,
    /// Values written since, whose requests failed: each may or may not be stored.
    unknown: Vec<u64>,
    /// Requests made, to take the app instances in turn.
    attempts: usize,
}

impl Visitor {
    fn cookie_header(&self) -> String {
        self.cookies.values().cloned().collect::<Vec<_>>().join("; ")
    }

    /// Keeps the `Set-Cookie` values of a response (a removal too: the server decides).
    fn keep(&mut self, set_cookies: &[String]) {
        for pair in set_cookies {
            if let Some((name, _)) = pair.split_once('=') {
                self.cookies.insert(name.to_owned(), pair.clone());
            }
        }
    }

    /// Whether the value a response read is one this visitor may see.
    fn expects(&self, value: u64) -> bool {
        value == self.acked || self.unknown.contains(&value)
    }
}

/// What one request did.
struct Outcome {
    /// Seconds since the start at which it was sent.
    at: f64,
    app: usize,
    /// The HTTP status, or 0 when no response came (connection refused, timeout).
    status: u16,
    latency_us: u64,
    /// Whether a failed response carried a `Set-Cookie`.
    failed_with_cookie: bool,
    /// For a failure: the stage the body names (`load`, `save`), if any.
    stage: Option<&'static str>,
}

/// Acknowledged writes found missing.
#[derive(Default)]
struct Losses {
    /// (when the lost value had been acknowledged, when the loss was seen), seconds since start.
    lost: Vec<(f64, f64)>,
    /// Responses that answered `none`: the whole session was gone.
    sessions: usize,
    /// Values that no write of the visitor could explain (newer than anything it wrote).
    impossible: usize,
}

/// What the watcher saw of the Cluster, in seconds since the start.
#[derive(Default, Clone)]
struct ClusterEvents {
    killed_at: Option<f64>,
    restarted_at: Option<f64>,
    /// `cluster_state` changes seen on the `--cluster` node: (when, state).
    states: Vec<(f64, String)>,
    /// When the `--watch` replica first answered `ROLE` as a master after the kill.
    promoted_at: Option<f64>,
}

/// `failover`: see the module's documentation.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse(
        args,
        &[
            "apps",
            "visitors",
            "concurrency",
            "seconds",
            "kill-pid",
            "kill-after",
            "restart",
            "restart-after",
            "watch",
            "cluster",
            "label",
        ],
    )?;
    let apps: Vec<String> =
        options.get("apps").ok_or("--apps HOST:PORT,HOST:PORT is required")?.split(',').map(str::to_owned).collect();
    let kill = match options.get("kill-pid") {
        Some(pid) => Some((pid.to_owned(), options.number("kill-after", 10)?)),
        None => None,
    };
    let restart = match options.get("restart") {
        Some(command) => Some((command.to_owned(), options.number("restart-after", 20)?)),
        None => None,
    };
    let plan = Plan {
        apps,
        visitors: usize::try_from(options.number("visitors", 2_000)?).map_err(|e| e.to_string())?,
        concurrency: usize::try_from(options.number("concurrency", 32)?.max(1)).map_err(|e| e.to_string())?,
        seconds: options.number("seconds", 30)?,
        kill,
        restart,
        watch: options.get("watch").map(str::to_owned),
        cluster: options.get("cluster").map(str::to_owned),
        label: options.get("label").unwrap_or("failover").to_owned(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(drive(plan))
}

async fn drive(plan: Plan) -> Result<(), String> {
    let plan = Arc::new(plan);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(plan.concurrency)
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let visitors = setup_visitors(&client, &plan).await?;
    eprintln!("{}: {} visitors set up on {}", plan.label, visitors.len(), plan.apps.join(", "));

    let start = Instant::now();
    let deadline = start + Duration::from_secs(plan.seconds);
    let events = Arc::new(Mutex::new(ClusterEvents::default()));
    let watcher = tokio::spawn(watch(Arc::clone(&plan), start, deadline, Arc::clone(&events)));
    let outcomes = Arc::new(Mutex::new(Vec::<Outcome>::new()));
    let losses = Arc::new(Mutex::new(Losses::default()));

    // Visitor i belongs to worker i % concurrency; each worker visits its own in turn.
    let mut shares: Vec<Vec<Visitor>> = (0..plan.concurrency).map(|_| Vec::new()).collect();
    for (i, visitor) in visitors.into_iter().enumerate() {
        shares[i % plan.concurrency].push(visitor);
    }
    let mut workers = Vec::new();
    for share in shares {
        let (client, plan, outcomes, losses) =
            (client.clone(), Arc::clone(&plan), Arc::clone(&outcomes), Arc::clone(&losses));
        workers.push(tokio::spawn(async move {
            let mut share = share;
            if share.is_empty() {
                return share;
            }
            let mut turn = 0;
            while Instant::now() < deadline {
                let count = share.len();
                let visitor = &mut share[turn % count];
                turn += 1;
                let outcome = swap(&client, &plan, visitor, start, &losses).await;
                lock(&outcomes).push(outcome);
            }
            share
        }));
    }
    let mut visitors = Vec::new();
    for worker in workers {
        visitors.extend(worker.await.map_err(|e| format!("a load task failed: {e}"))?);
    }
    let _ = watcher.await;
    let during = lock(&losses).lost.len();

    // The last writes: every visitor reads its value once more.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut final_failures = BTreeMap::<u16, usize>::new();
    for (i, visitor) in visitors.iter_mut().enumerate() {
        let app = &plan.apps[i % plan.apps.len()];
        let at = start.elapsed().as_secs_f64();
        match request(&client, "GET", &format!("http://{app}/read"), &visitor.cookie_header()).await {
            Ok((200, _, body)) => match body.trim().parse::<u64>() {
                Ok(value) if visitor.expects(value) => {}
                Ok(value) if value < visitor.acked => lock(&losses).lost.push((visitor.acked_at, at)),
                _ => lock(&losses).impossible += 1,
            },
            // No counter: the session is gone, and its last acknowledged value with it.
            Ok((409, _, _)) => {
                let mut losses = lock(&losses);
                losses.sessions += 1;
                losses.lost.push((visitor.acked_at, at));
            }
            Ok((status, _, _)) => *final_failures.entry(status).or_default() += 1,
            Err(_) => *final_failures.entry(0).or_default() += 1,
        }
    }

    let outcomes = std::mem::take(&mut *lock(&outcomes));
    let losses = std::mem::take(&mut *lock(&losses));
    let events = lock(&events).clone();
    print!("{}", report(&plan, &outcomes, &losses, during, &events, &final_failures));
    Ok(())
}

/// A mutex's guard, even if a task panicked while holding it (the data is counts only).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `POST /setup` for every visitor, spread over the apps, `concurrency` at a time.
async fn setup_visitors(client: &reqwest::Client, plan: &Arc<Plan>) -> Result<Vec<Visitor>, String> {
    let mut visitors = Vec::with_capacity(plan.visitors);
    let mut index = 0;
    let mut retried = 0;
    while index < plan.visitors {
        let batch: Vec<_> = (index..plan.visitors.min(index + plan.concurrency))
            .map(|i| {
                let (client, app) = (client.clone(), plan.apps[i % plan.apps.len()].clone());
                tokio::spawn(async move {
                    // An app that slept through a failover answers its first writes with 503
                    // until its Cluster client has followed the new topology: retry a while.
                    let url = format!("http://{app}/setup");
                    let mut failed = 0;
                    loop {
                        let reply = request(&client, "POST", &url, "").await?;
                        if reply.0 == 200 || failed == 50 {
                            return Ok::<_, String>((reply, failed));
                        }
                        failed += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                })
            })
            .collect();
        for task in batch {
            let ((status, set_cookies, body), failed) = task.await.map_err(|e| e.to_string())??;
            retried += failed;
            if status != 200 || set_cookies.is_empty() {
                return Err(format!("POST /setup answered {status} `{body}` with {} cookies", set_cookies.len()));
            }
            let mut visitor = Visitor {
                cookies: BTreeMap::new(),
                next: 1,
                acked: 0,
                acked_at: 0.0,
                unknown: Vec::new(),
                attempts: index,
            };
            visitor.keep(&set_cookies);
            visitors.push(visitor);
            index += 1;
        }
    }
    if retried > 0 {
        eprintln!("{}: {retried} setup requests failed and were retried", plan.label);
    }
    Ok(visitors)
}

/// One request: its status, the `name=value` of each `Set-Cookie`, and its body.
async fn request(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    cookie: &str,
) -> Result<(u16, Vec<String>, String), String> {
    let mut builder = if method == "POST" { client.post(url) } else { client.get(url) };
    if !cookie.is_empty() {
        builder = builder.header(COOKIE, cookie);
    }
    let response = builder.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let set_cookies = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| Some(value.to_str().ok()?.split(';').next()?.trim().to_owned()))
        .collect();
    let body = response.text().await.map_err(|e| e.to_string())?;
    Ok((status, set_cookies, body))
}

/// One `POST /swap/{next}` of `visitor`, checked against what it knows.
async fn swap(
    client: &reqwest::Client,
    plan: &Plan,
    visitor: &mut Visitor,
    start: Instant,
    losses: &Mutex<Losses>,
) -> Outcome {
    let app = visitor.attempts % plan.apps.len();
    visitor.attempts += 1;
    let value = visitor.next;
    visitor.next += 1;
    let sent = Instant::now();
    let at = sent.duration_since(start).as_secs_f64();
    let url = format!("http://{}/swap/{value}", plan.apps[app]);
    let result = request(client, "POST", &url, &visitor.cookie_header()).await;
    let latency_us = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
    let mut outcome = Outcome { at, app, status: 0, latency_us, failed_with_cookie: false, stage: None };
    match result {
        Ok((200, set_cookies, body)) => {
            outcome.status = 200;
            let seen_at = start.elapsed().as_secs_f64();
            match body.trim() {
                "none" => {
                    let mut losses = lock(losses);
                    losses.sessions += 1;
                    losses.lost.push((visitor.acked_at, seen_at));
                }
                text => match text.parse::<u64>() {
                    Ok(old) if visitor.expects(old) => {}
                    Ok(old) if old < visitor.acked => lock(losses).lost.push((visitor.acked_at, seen_at)),
                    _ => lock(losses).impossible += 1,
                },
            }
            visitor.keep(&set_cookies);
            visitor.acked = value;
            visitor.acked_at = seen_at;
            visitor.unknown.clear();
        }
        Ok((status, set_cookies, body)) => {
            outcome.status = status;
            outcome.failed_with_cookie = !set_cookies.is_empty();
            outcome.stage = if body.ends_with("load") {
                Some("load")
            } else if body.ends_with("save") {
                Some("save")
            } else {
                None
            };
            visitor.unknown.push(value);
        }
        Err(_) => visitor.unknown.push(value),
    }
    outcome
}

/// Kills and restarts the node when asked, and polls the Cluster every 20 ms until `deadline`.
async fn watch(plan: Arc<Plan>, start: Instant, deadline: Instant, events: Arc<Mutex<ClusterEvents>>) {
    let mut killed = false;
    let mut restarted = false;
    while Instant::now() < deadline {
        let now = start.elapsed().as_secs_f64();
        if let Some((pid, after)) = &plan.kill {
            if !killed && now >= *after as f64 {
                killed = true;
                let status = tokio::process::Command::new("kill").args(["-KILL", pid]).status().await;
                eprintln!("{:.3} s: kill -KILL {pid}: {status:?}", start.elapsed().as_secs_f64());
                lock(&events).killed_at = Some(now);
            }
        }
        if let Some((command, after)) = &plan.restart {
            if !restarted && now >= *after as f64 {
                restarted = true;
                let status = tokio::process::Command::new("sh").args(["-c", command]).status().await;
                eprintln!("{:.3} s: restarted the node: {status:?}", start.elapsed().as_secs_f64());
                lock(&events).restarted_at = Some(now);
            }
        }
        if let Some(node) = &plan.cluster {
            if let Some(info) = resp(node, &["CLUSTER", "INFO"]).await {
                if let Some(state) = info.lines().find_map(|l| l.strip_prefix("cluster_state:")) {
                    let mut events = lock(&events);
                    if events.states.last().is_none_or(|(_, last)| last != state.trim()) {
                        events.states.push((now, state.trim().to_owned()));
                    }
                }
            }
        }
        if let Some(replica) = &plan.watch {
            if killed && lock(&events).promoted_at.is_none() {
                if let Some(role) = resp(replica, &["ROLE"]).await {
                    if role.contains("master") {
                        lock(&events).promoted_at = Some(start.elapsed().as_secs_f64());
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One command to a Redis node over a fresh connection, its reply as text (lossy), or `None` when
/// the node does not answer within 200 ms.
async fn resp(address: &str, command: &[&str]) -> Option<String> {
    let mut request = format!("*{}\r\n", command.len());
    for part in command {
        let _ = write!(request, "${}\r\n{part}\r\n", part.len());
    }
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut buffer = vec![0u8; 16_384];
        let read = stream.read(&mut buffer).await.ok()?;
        Some(String::from_utf8_lossy(&buffer[..read]).into_owned())
    };
    tokio::time::timeout(Duration::from_millis(200), exchange).await.ok().flatten()
}

/// The value at quantile `q` of sorted `values`.
fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index]
}

#[allow(clippy::cast_precision_loss)] // counts and microseconds far below 2^52
fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// The markdown report: the settings, the Cluster's events, the failure window per app, the
/// losses and the per-second timeline.
#[allow(clippy::too_many_lines)]
fn report(
    plan: &Plan,
    outcomes: &[Outcome],
    losses: &Losses,
    lost_during: usize,
    events: &ClusterEvents,
    final_failures: &BTreeMap<u16, usize>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### {}\n", plan.label);
    let _ = writeln!(
        out,
        "{} visitors, {} concurrent requests, {} s, apps {}.",
        plan.visitors,
        plan.concurrency,
        plan.seconds,
        plan.apps.join(", ")
    );
    let kill = events.killed_at;
    let rel = |t: f64| kill.map_or(format!("{t:.3} s"), |k| format!("{:+.3} s", t - k));
    if let Some(k) = kill {
        let _ = writeln!(out, "\n- primary killed (SIGKILL) at {k:.3} s from the start; times below are from the kill");
    }
    for (at, state) in &events.states {
        let _ = writeln!(out, "- `cluster_state:{state}` seen at {}", rel(*at));
    }
    if let Some(at) = events.promoted_at {
        let _ = writeln!(out, "- its replica answered `ROLE` as a master at {}", rel(at));
    }
    if let Some(at) = events.restarted_at {
        let _ = writeln!(out, "- the killed node was restarted at {}", rel(at));
    }

    let total = outcomes.len();
    let ok = outcomes.iter().filter(|o| o.status == 200).count();
    let mut by_status = BTreeMap::<String, usize>::new();
    for o in outcomes.iter().filter(|o| o.status != 200) {
        let key = match (o.status, o.stage) {
            (0, _) => "no response".to_owned(),
            (status, Some(stage)) => format!("{status} ({stage})"),
            (status, None) => status.to_string(),
        };
        *by_status.entry(key).or_default() += 1;
    }
    let failed_with_cookie = outcomes.iter().filter(|o| o.failed_with_cookie).count();
    let failures: Vec<String> = by_status.iter().map(|(k, n)| format!("{n} × {k}")).collect();
    let _ = writeln!(
        out,
        "- requests: {total}, {ok} answered 200; failed: {}; failed responses with a `Set-Cookie`: {failed_with_cookie}",
        if failures.is_empty() { "none".to_owned() } else { failures.join(", ") }
    );
    for (app, address) in plan.apps.iter().enumerate() {
        let mine: Vec<&Outcome> = outcomes.iter().filter(|o| o.app == app).collect();
        let failed: Vec<&&Outcome> = mine.iter().filter(|o| o.status != 200).collect();
        match (failed.first(), failed.last()) {
            (Some(first), Some(last)) => {
                let recovered = mine.iter().filter(|o| o.status == 200 && o.at > last.at).count();
                let _ = writeln!(
                    out,
                    "- app {address}: {} failures, the first sent at {}, the last at {} (window {:.3} s); {recovered} \
                     requests answered 200 after it",
                    failed.len(),
                    rel(first.at),
                    rel(last.at),
                    last.at - first.at
                );
            }
            _ => {
                let _ = writeln!(out, "- app {address}: no failures, {} requests answered 200", mine.len());
            }
        }
    }
    let mut latencies: Vec<u64> = outcomes.iter().filter(|o| o.status == 200).map(|o| o.latency_us).collect();
    latencies.sort_unstable();
    #[allow(clippy::cast_precision_loss)]
    let rate = ok as f64 / plan.seconds.max(1) as f64;
    let _ = writeln!(
        out,
        "- 200s: {rate:.0} per second on average; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(quantile(&latencies, 0.5)),
        ms(quantile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or(0))
    );
    let window: Vec<String> = losses
        .lost
        .iter()
        .map(|(acked, seen)| format!("acked {}, seen {}", rel(*acked), rel(*seen)))
        .take(10)
        .collect();
    let _ = writeln!(
        out,
        "- lost acknowledged writes: {} ({} seen during the load, {} at the final read); sessions found gone: {}; \
         values no write explains: {}{}",
        losses.lost.len(),
        lost_during,
        losses.lost.len() - lost_during,
        losses.sessions,
        losses.impossible,
        if window.is_empty() { String::new() } else { format!(" ({})", window.join("; ")) }
    );
    if !final_failures.is_empty() {
        let text: Vec<String> = final_failures.iter().map(|(s, n)| format!("{n} × {s}")).collect();
        let _ = writeln!(out, "- final reads that failed: {}", text.join(", "));
    }

    let _ = writeln!(out, "\n| second | 200 | failed | failure statuses | no response | p50 ms | p99 ms |");
    let _ = writeln!(out, "|--:|--:|--:|---|--:|--:|--:|");
    let mut seconds = BTreeMap::<u64, Vec<&Outcome>>::new();
    for o in outcomes {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        seconds.entry(o.at as u64).or_default().push(o);
    }
    // Every second of the run, those in which no request was sent too (every worker waiting).
    let last = seconds.keys().next_back().copied().unwrap_or(0).max(plan.seconds.saturating_sub(1));
    for second in 0..=last {
        let list = seconds.remove(&second).unwrap_or_default();
        let ok: Vec<u64> = {
            let mut v: Vec<u64> = list.iter().filter(|o| o.status == 200).map(|o| o.latency_us).collect();
            v.sort_unstable();
            v
        };
        let no_response = list.iter().filter(|o| o.status == 0).count();
        let mut statuses = BTreeMap::<String, usize>::new();
        for o in list.iter().filter(|o| o.status != 200 && o.status != 0) {
            *statuses
                .entry(format!("{}{}", o.status, o.stage.map_or(String::new(), |s| format!(" {s}"))))
                .or_default() += 1;
        }
        let statuses: Vec<String> = statuses.iter().map(|(k, n)| format!("{n} × {k}")).collect();
        let label = kill.map_or(second.to_string(), |k| {
            #[allow(clippy::cast_precision_loss)]
            let from_kill = second as f64 - k;
            format!("{second} ({from_kill:+.1})")
        });
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {no_response} | {:.2} | {:.2} |",
            ok.len(),
            list.len() - ok.len(),
            statuses.join(", "),
            ms(quantile(&ok, 0.5)),
            ms(quantile(&ok, 0.99))
        );
    }
    out.push('\n');
    out
}
