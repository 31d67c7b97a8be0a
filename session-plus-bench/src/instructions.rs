//! `instructions`: CPU instructions per request, counted under callgrind, for every variant and
//! route, with the ratios to bare axum and to tower-sessions on the same store.
//!
//! Instructions are counted, not timed, so the figure holds on a shared, noisy machine. Each
//! variant's `in-process` loop runs under `valgrind --tool=callgrind` twice, with `--small` and
//! `--large` requests; the difference of the two totals divided by the difference of the counts
//! is one request (start-up and set-up cancel out). The share spent in SHA-256's compression
//! function (`sha2::sha256::compress256`, inclusive) is read with `callgrind_annotate` the same
//! way: valgrind hides the CPU's SHA extensions, so `sha2` runs its software compression there,
//! about 1,900 instructions per 64-byte block.
//!
//! Some variants' counts move between runs of the same binary (tower-sessions draws random ids
//! and map seeds: its memory `/read` moved by 3 % over five runs), so `--repeat N` measures each
//! variant and route N times and the table gives the median, the stderr line the spread.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::variants::Variant;

/// Instructions of one request of one variant on one route.
#[derive(Debug, Clone, Copy)]
struct Cost {
    total: f64,
    sha256: f64,
}

/// How many requests each measurement runs, and how many times each is made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Runs {
    pub(crate) small: u64,
    pub(crate) large: u64,
    /// Each variant and route measured this many times; the table gives the median.
    pub(crate) repeat: u64,
}

/// Runs the table: `--variants`, `--routes`, `--small 2000 --large 6000`, `--repeat 1`, `--dir`,
/// `--redis`.
pub(crate) fn run(
    selected: &[&'static Variant],
    routes: &[&str],
    runs: Runs,
    dir: &str,
    redis: &str,
) -> Result<(), String> {
    let Runs { small, large, repeat } = runs;
    if large <= small {
        return Err("--large must be more than --small".into());
    }
    if repeat == 0 {
        return Err("--repeat must be at least 1".into());
    }
    for tool in ["valgrind", "callgrind_annotate"] {
        if Command::new(tool).arg("--version").output().is_err() {
            return Err(format!("{tool} is not installed (Debian: apt-get install -y valgrind)"));
        }
    }
    let mut costs = Vec::new();
    for variant in selected {
        for route in routes {
            let mut measured = Vec::new();
            for _ in 0..repeat {
                let low = counted(variant, route, small, dir, redis)?;
                let high = counted(variant, route, large, dir, redis)?;
                #[allow(clippy::cast_precision_loss)] // request counts are far below 2^52
                let per = |high: u64, low: u64| (high as f64 - low as f64) / (large - small) as f64;
                measured.push(Cost { total: per(high.0, low.0), sha256: per(high.1, low.1) });
            }
            measured.sort_by(|a, b| a.total.total_cmp(&b.total));
            let cost = measured[measured.len() / 2]; // the median (`repeat` is at least 1)
            let (min, max) = (measured[0].total, measured[measured.len() - 1].total);
            eprintln!("{} {route}: {:.0} instructions per request ({min:.0}–{max:.0})", variant.name, cost.total);
            costs.push((variant.name, *route, cost));
        }
    }
    println!("{}", table(selected, routes, &costs, runs));
    Ok(())
}

/// The total instructions and those in SHA-256's compression of `requests` requests (plus
/// start-up) of `variant` on `route`.
fn counted(variant: &Variant, route: &str, requests: u64, dir: &str, redis: &str) -> Result<(u64, u64), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out =
        Path::new(dir).join(format!("callgrind-{}-{}-{requests}.out", variant.name, route.trim_start_matches('/')));
    let status = Command::new("valgrind")
        .args(["--tool=callgrind", "--quiet"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&exe)
        .args(["in-process", "--variant", variant.name, "--route", route, "--dir", dir, "--redis", redis])
        .args(["--requests", &requests.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    if !status.success() {
        return Err(format!("{} {route} under callgrind: {status}", variant.name));
    }
    let annotated = Command::new("callgrind_annotate")
        .args(["--inclusive=yes", "--threshold=100"])
        .arg(&out)
        .output()
        .map_err(|e| format!("cannot run callgrind_annotate: {e}"))?;
    let _ = std::fs::remove_file(&out);
    let text = String::from_utf8_lossy(&annotated.stdout);
    let total = text
        .lines()
        .find(|line| line.contains("PROGRAM TOTALS"))
        .and_then(first_number)
        .ok_or_else(|| format!("no PROGRAM TOTALS in callgrind_annotate's output for {}", variant.name))?;
    let sha256 = text.lines().filter(|line| line.contains("sha2::sha256::compress256")).find_map(first_number);
    Ok((total, sha256.unwrap_or(0)))
}

/// The first number of a callgrind_annotate line (`1,234,567 (100.0%)  PROGRAM TOTALS`).
fn first_number(line: &str) -> Option<u64> {
    line.split_whitespace().next()?.replace(',', "").parse().ok()
}

/// The Markdown table: per route and variant, instructions per request, those in SHA-256, and
/// the ratios to bare axum and to the tower-sessions variant on the same store.
fn table(
    selected: &[&'static Variant],
    routes: &[&str],
    costs: &[(&str, &str, Cost)],
    Runs { small, large, repeat }: Runs,
) -> String {
    let find = |name: &str, route: &str| costs.iter().find(|(n, r, _)| *n == name && *r == route).map(|c| c.2);
    let median = if repeat > 1 { format!(", the median of {repeat} runs") } else { String::new() };
    let mut out = format!(
        "Instructions per request (callgrind, ({large} − {small} requests) ÷ {}{median}); ratios above 1 cost more.\n\n\
         | route | variant | instructions | in SHA-256 | outside SHA-256 | × bare axum | × tower-sessions |\n\
         |---|---|--:|--:|--:|--:|--:|\n",
        large - small
    );
    for route in routes {
        let axum = find("axum", route);
        for variant in selected {
            let Some(cost) = find(variant.name, route) else { continue };
            let ratio =
                |base: Option<Cost>| base.map_or("—".to_owned(), |base| format!("{:.2}", cost.total / base.total));
            let tower = variant.tower_sessions.and_then(|ts| find(ts, route));
            let _ = writeln!(
                out,
                "| `{route}` | {} | {} | {} | {} | {} | {} |",
                variant.label,
                thousands(cost.total),
                thousands(cost.sha256),
                thousands(cost.total - cost.sha256),
                if variant.name == "axum" { "1.00".to_owned() } else { ratio(axum) },
                if variant.tower_sessions.is_some() { ratio(tower) } else { "—".to_owned() },
            );
        }
    }
    out
}

fn thousands(value: f64) -> String {
    // Rounded to whole instructions; a per-request figure is far from the edges of i64.
    #[allow(clippy::cast_possible_truncation)]
    let digits = (value.round() as i64).unsigned_abs().to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if value < -0.5 {
        out.insert(0, '−');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_and_written_with_thousands() {
        assert_eq!(first_number("1,234,567 (100.0%)  PROGRAM TOTALS"), Some(1_234_567));
        assert_eq!(first_number("PROGRAM"), None);
        assert_eq!(thousands(39_554.4), "39,554");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(-1_500.0), "−1,500");
    }
}
