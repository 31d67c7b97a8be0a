//! Reading wrk's output and writing the results table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::variants::Variant;

/// What one wrk run measured.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sample {
    /// Requests per second.
    pub(crate) rps: f64,
    /// Median latency, in milliseconds.
    pub(crate) p50_ms: f64,
    /// 99th-percentile latency, in milliseconds.
    pub(crate) p99_ms: f64,
    /// Responses that were not 2xx or 3xx.
    pub(crate) non_2xx: u64,
    /// Connect, read, write and timeout errors, summed.
    pub(crate) socket_errors: u64,
    /// Requests answered ("N requests in").
    pub(crate) requests: u64,
    /// The server process's CPU time per request answered, in microseconds (all its threads,
    /// user and kernel); NaN where it could not be read.
    pub(crate) server_cpu_us: f64,
}

/// Reads `wrk --latency` output; `None` without a `Requests/sec` line.
pub(crate) fn parse_wrk(text: &str) -> Option<Sample> {
    let field = |prefix: &str| text.lines().find_map(|line| line.trim().strip_prefix(prefix).map(str::trim));
    let rps = field("Requests/sec:")?.parse().ok()?;
    let latency = |p: &str| field(p).and_then(millis).unwrap_or(f64::NAN);
    let non_2xx = field("Non-2xx or 3xx responses:").and_then(|v| v.parse().ok()).unwrap_or(0);
    // "Socket errors: connect 0, read 0, write 0, timeout 0"
    let socket_errors = field("Socket errors:")
        .map_or(0, |v| v.split(',').filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok()).sum());
    // "90000 requests in 3.00s, 12.00MB read"
    let requests = text.lines().find_map(|line| line.trim().split_once(" requests in ")?.0.parse().ok()).unwrap_or(0);
    Some(Sample {
        rps,
        p50_ms: latency("50%"),
        p99_ms: latency("99%"),
        non_2xx,
        socket_errors,
        requests,
        server_cpu_us: f64::NAN,
    })
}

/// wrk's "456.00us", "1.23ms", "1.20s", "2.00m" in milliseconds.
fn millis(value: &str) -> Option<f64> {
    let split = value.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => return None,
    })
}

/// The median; the mean of the two middle values for an even count.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// One line of the table: a variant on a route, over every round.
struct Row {
    route: &'static str,
    variant: &'static Variant,
    rounds: usize,
    rps: f64,
    rps_min: f64,
    rps_max: f64,
    p50_ms: f64,
    p99_ms: f64,
    server_cpu_us: f64,
    rss_mib: f64,
}

/// The medians over rounds, ready to print.
pub(crate) struct Summary {
    rows: Vec<Row>,
}

impl Summary {
    /// Summarises `samples`, keyed by (variant, route), with each variant's peak RSS in MiB.
    pub(crate) fn new(
        variants: &[&'static Variant],
        routes: &[&'static str],
        samples: &BTreeMap<(&'static str, &'static str), Vec<Sample>>,
        rss: &BTreeMap<&'static str, f64>,
    ) -> Self {
        let mut rows = Vec::new();
        for route in routes {
            for variant in variants {
                let Some(runs) = samples.get(&(variant.name, *route)) else { continue };
                let pick = |f: fn(&Sample) -> f64| runs.iter().map(f).collect::<Vec<_>>();
                let rps = pick(|s| s.rps);
                rows.push(Row {
                    route,
                    variant,
                    rounds: runs.len(),
                    rps_min: rps.iter().copied().fold(f64::INFINITY, f64::min),
                    rps_max: rps.iter().copied().fold(0.0, f64::max),
                    rps: median(rps),
                    p50_ms: median(pick(|s| s.p50_ms)),
                    p99_ms: median(pick(|s| s.p99_ms)),
                    server_cpu_us: median(pick(|s| s.server_cpu_us)),
                    rss_mib: rss.get(variant.name).copied().unwrap_or(f64::NAN),
                });
            }
        }
        Self { rows }
    }

    fn rps(&self, variant: &str, route: &str) -> Option<f64> {
        self.rows.iter().find(|r| r.variant.name == variant && r.route == route).map(|r| r.rps)
    }

    /// The results as a Markdown table.
    pub(crate) fn table(&self) -> String {
        let rounds = self.rows.first().map_or(0, |r| r.rounds);
        let mut table = format!(
            "| route | variant | req/s (median of {rounds}) | min–max req/s | × bare axum | × tower-sessions \
             | × SignedCookieJar | p50 ms | p99 ms | server CPU µs / request | peak RSS MiB |\n\
             |---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
        );
        for row in &self.rows {
            let ratio = |base: Option<f64>| match base {
                Some(base) if base > 0.0 => format!("{:.2}", row.rps / base),
                _ => "—".to_owned(),
            };
            let bare = if row.variant.name == "axum" { "1.00".to_owned() } else { ratio(self.rps("axum", row.route)) };
            let tower = row.variant.tower_sessions.map_or("—".to_owned(), |ts| ratio(self.rps(ts, row.route)));
            let jar = if row.route == "/csrf" && row.variant.tower_sessions.is_some() {
                ratio(self.rps("signed-jar", row.route))
            } else {
                "—".to_owned()
            };
            let _ = writeln!(
                table,
                "| `{}` | {} | {:.0} | {:.0}–{:.0} | {bare} | {tower} | {jar} | {:.3} | {:.3} | {:.2} | {:.1} |",
                row.route,
                row.variant.label,
                row.rps,
                row.rps_min,
                row.rps_max,
                row.p50_ms,
                row.p99_ms,
                row.server_cpu_us,
                row.rss_mib
            );
        }
        table
    }
}

/// The ratios issue 15 sets a floor on in every round: on `route`, `variant`'s req/s over
/// `over`'s.
const ROUND_TARGETS: [(&str, &str, &str, f64); 2] =
    [("/csrf", "sp-memory", "signed-jar", 1.15), ("/hit", "sp-redis", "ts-redis", 1.3)];

/// Each round's [`ROUND_TARGETS`] ratios, for those the run measured: req/s (with whether it
/// meets the floor) and, beside it, the server CPU per request the other way round (`over`'s
/// ÷ `variant`'s): how much of the difference is the server's own. Empty when the run measured
/// none.
pub(crate) fn rounds_table(
    variants: &[&'static Variant],
    samples: &BTreeMap<(&'static str, &'static str), Vec<Sample>>,
) -> String {
    let label = |name: &str| variants.iter().find(|v| v.name == name).map(|v| v.label);
    let mut lines = Vec::new();
    let mut rounds = 0;
    for (route, variant, over, floor) in ROUND_TARGETS {
        let (Some(runs), Some(over_runs)) = (samples.get(&(variant, route)), samples.get(&(over, route))) else {
            continue;
        };
        let (Some(variant_label), Some(over_label)) = (label(variant), label(over)) else { continue };
        rounds = rounds.max(runs.len());
        let pairs = || runs.iter().zip(over_runs);
        let rps: Vec<String> = pairs()
            .map(|(a, b)| {
                let ratio = a.rps / b.rps;
                format!("{ratio:.2} {}", if ratio >= floor { "✓" } else { "✗" })
            })
            .collect();
        let cpu: Vec<String> = pairs().map(|(a, b)| format!("{:.2}", b.server_cpu_us / a.server_cpu_us)).collect();
        lines.push(format!("| `{route}` req/s, {variant_label} ÷ {over_label} | {floor:.2} | {} |", rps.join(" | ")));
        lines.push(format!(
            "| `{route}` server CPU per request, {over_label} ÷ {variant_label} | — | {} |",
            cpu.join(" | ")
        ));
    }
    if lines.is_empty() {
        return String::new();
    }
    let numbers: Vec<String> = (1..=rounds).map(|r| format!("round {r}")).collect();
    format!(
        "| in every round | floor | {} |\n|---|--:|{}\n{}\n",
        numbers.join(" | "),
        "--:|".repeat(rounds),
        lines.join("\n")
    )
}

/// The first line of `path` that starts with `prefix`, after the prefix and a colon.
fn proc_field(path: &str, prefix: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|line| line.starts_with(prefix))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}

/// The whole Markdown report: how it was run, on what, the table, and any notes.
pub(crate) fn markdown(invocation: &str, settings: &str, table: &str, rounds: &str, notes: &[String]) -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpu = proc_field("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown CPU".into());
    let memory = proc_field("/proc/meminfo", "MemTotal")
        .and_then(|v| v.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or_else(|| "unknown".into(), |kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0));
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git").args(args).output().ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let tree = match (git(&["rev-parse", "--short", "HEAD"]), git(&["status", "--porcelain", "--untracked-files=no"])) {
        (Some(commit), Some(changes)) if changes.is_empty() => format!("commit {commit}"),
        (Some(commit), Some(_)) => format!("commit {commit} with uncommitted changes"),
        _ => "unknown commit".to_owned(),
    };
    let mut text = format!(
        "# session-plus benchmark run\n\n\
         - Command: `{invocation}` ({date}, {tree})\n\
         - Settings: {settings}; every server a process of its own, wrk another, over loopback\n\
         - Machine: {cores} cores, {cpu}, {memory} RAM\n\
         - Routes: `/hit` reads `counter` from the server-side session and writes it back + 1; `/read` \
         only reads it; `/csrf` reads only the field that session-plus keeps in a signed cookie\n\
         - × tower-sessions: session-plus over tower-sessions on the same backend; × SignedCookieJar: \
         `/csrf` only; server CPU is the server process's, user and kernel, over the requests \
         wrk counted; peak RSS is the server's VmHWM over the whole run\n\n\
         {table}"
    );
    if !rounds.is_empty() {
        text.push_str("\nRound by round:\n\n");
        text.push_str(rounds);
    }
    if !notes.is_empty() {
        text.push_str("\nNotes:\n\n");
        for note in notes {
            let _ = writeln!(text, "- {note}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK: &str = "Running 3s test @ http://127.0.0.1:4000/hit
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02ms  512.00us  12.34ms   80.00%
    Req/Sec    15.10k     1.20k   18.00k    70.00%
  Latency Distribution
     50%  840.00us
     75%    1.20ms
     90%    1.80ms
     99%    3.10ms
  90000 requests in 3.00s, 12.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:  30000.50
Transfer/sec:      4.00MB
";

    #[test]
    fn reads_wrk_output() {
        let sample = parse_wrk(WRK).expect("a complete wrk report");
        assert_eq!(sample.rps, 30000.5);
        assert_eq!(sample.p50_ms, 0.84);
        assert_eq!(sample.p99_ms, 3.1);
        assert_eq!(sample.non_2xx, 5);
        assert_eq!(sample.socket_errors, 3);
        assert_eq!(sample.requests, 90_000);
        assert!(sample.server_cpu_us.is_nan(), "measured by `run`, not read from wrk");
        assert!(parse_wrk("unable to connect").is_none());
    }

    #[test]
    fn rounds_table_checks_each_round_against_its_floor() {
        let variants: Vec<&'static Variant> = crate::variants::VARIANTS.iter().collect();
        let sample = |rps: f64, server_cpu_us: f64| Sample { rps, server_cpu_us, ..Sample::default() };
        let mut samples = BTreeMap::new();
        samples.insert(("signed-jar", "/csrf"), vec![sample(100.0, 12.0), sample(100.0, 12.0)]);
        samples.insert(("sp-memory", "/csrf"), vec![sample(120.0, 10.0), sample(110.0, 11.0)]);
        let table = rounds_table(&variants, &samples);
        assert!(table.starts_with("| in every round | floor | round 1 | round 2 |\n|---|--:|--:|--:|\n"), "{table}");
        assert!(table.contains("| 1.15 | 1.20 ✓ | 1.10 ✗ |"), "{table}");
        assert!(table.contains("| — | 1.20 | 1.09 |"), "server CPU, the jar's over ours: {table}");
        assert!(!table.contains("/hit"), "the Redis pair was not measured: {table}");
        assert_eq!(rounds_table(&variants, &BTreeMap::new()), "");
    }

    #[test]
    fn medians_and_units() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(millis("1.20s"), Some(1200.0));
        assert_eq!(millis("2.00m"), Some(120_000.0));
        assert_eq!(millis("7"), None);
    }
}
