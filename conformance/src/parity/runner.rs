//! The runner loop: every scenario of a directory, one after another, each on a thread of
//! its own under a watchdog, each result written as `<name>.json`.

use std::any::Any;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::harness::{Harness, WATCHDOG};

use super::environment::{self, Outcome};
use super::interp::{Progress, SharedProgress};
use super::render;
use super::scenario::Scenario;

/// What a directory run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Scenarios run (result files written).
    pub scenarios: usize,
    /// Scenarios whose result holds an `error` (an op or the environment failed).
    pub with_errors: usize,
}

/// The scenario files of `dir`: every `*.json`, sorted by name.
pub fn scenario_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<io::Result<_>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "json") && p.is_file());
    files.sort();
    Ok(files)
}

/// Runs every scenario of `scenarios` on `harness` and writes `<name>.json` into `out`
/// (created if missing). A line per scenario goes to stderr.
pub fn run_dir<H: Harness>(harness: &H, scenarios: &Path, out: &Path) -> io::Result<RunSummary> {
    let files = scenario_files(scenarios)?;
    fs::create_dir_all(out)?;
    let mut summary = RunSummary::default();
    for file in files {
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let started = Instant::now();
        let result = match fs::read_to_string(&file) {
            Ok(text) => run_scenario(harness, &name, &text),
            Err(e) => failed(
                &name,
                None,
                Vec::new(),
                &format!("cannot read {file:?}: {e}"),
            ),
        };
        let errors = count_errors(&result);
        summary.scenarios += 1;
        if errors > 0 {
            summary.with_errors += 1;
        }
        let mut text = serde_json::to_string_pretty(&result).map_err(io::Error::other)?;
        text.push('\n');
        fs::write(out.join(format!("{name}.json")), text)?;
        eprintln!(
            "{name:<32} {:>6} ms{}",
            started.elapsed().as_millis(),
            if errors > 0 {
                format!("  {errors} error(s)")
            } else {
                String::new()
            }
        );
    }
    Ok(summary)
}

/// Runs one scenario (its file's text) under the watchdog and returns its result object
/// (FORMAT §4).
pub fn run_scenario<H: Harness>(harness: &H, name: &str, text: &str) -> Value {
    let scenario = match Scenario::from_json(text) {
        Ok(s) => s,
        Err(e) => return failed(name, None, Vec::new(), &e),
    };
    let progress: SharedProgress = Arc::new(Mutex::new(Progress::default()));
    let (done, outcome) = mpsc::channel::<Result<Outcome, Box<dyn Any + Send>>>();
    let spawned = {
        let harness = harness.clone();
        let scenario = scenario.clone();
        let progress = Arc::clone(&progress);
        std::thread::Builder::new()
            .name(format!("parity-{name}"))
            .spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    environment::run(&harness, &scenario, progress)
                }));
                // The receiver is gone if the watchdog already fired.
                let _ = done.send(result);
            })
    };
    if let Err(e) = spawned {
        return failed(
            name,
            scenario.description.as_deref(),
            Vec::new(),
            &e.to_string(),
        );
    }
    let description = scenario.description.as_deref();
    match outcome.recv_timeout(WATCHDOG) {
        Ok(Ok(outcome)) => {
            let mut result = result_object(name, description, outcome.ops, outcome.peer);
            if let Some(e) = outcome.error {
                result.insert("error".into(), Value::String(e));
            }
            Value::Object(result)
        }
        Ok(Err(panic)) => stuck(
            name,
            description,
            &progress,
            &format!("panicked: {}", panic_text(&*panic)),
        ),
        // The scenario's thread is abandoned; the next scenario gets a fresh one.
        Err(_) => stuck(
            name,
            description,
            &progress,
            &format!("watchdog: still running after {} s", WATCHDOG.as_secs()),
        ),
    }
}

fn panic_text(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// The result of a scenario that hung or panicked: the records so far and an `error`
/// record for the op that was running.
fn stuck(name: &str, description: Option<&str>, progress: &SharedProgress, why: &str) -> Value {
    let progress = progress.lock().unwrap_or_else(PoisonError::into_inner);
    let mut ops = progress.records.clone();
    if let Some((i, op)) = &progress.running {
        ops.push(render::error_record(*i, op, why));
    }
    failed(name, description, ops, why)
}

fn failed(name: &str, description: Option<&str>, ops: Vec<Value>, why: &str) -> Value {
    let mut result = result_object(name, description, ops, None);
    result.insert("error".into(), Value::String(why.to_owned()));
    Value::Object(result)
}

fn result_object(
    name: &str,
    description: Option<&str>,
    ops: Vec<Value>,
    peer: Option<Value>,
) -> Map<String, Value> {
    let mut result = Map::new();
    result.insert("scenario".into(), json!(name));
    if let Some(d) = description {
        result.insert("description".into(), json!(d));
    }
    result.insert("ops".into(), Value::Array(ops));
    if let Some(peer) = peer {
        result.insert("peer".into(), peer);
    }
    result
}

/// `error` records (nested in `thread_ops` too) plus a top-level `error`.
fn count_errors(result: &Value) -> usize {
    fn in_ops(ops: &Value) -> usize {
        ops.as_array().map_or(0, |ops| {
            ops.iter()
                .map(|r| {
                    usize::from(r.get("error").is_some()) + r.get("thread_ops").map_or(0, in_ops)
                })
                .sum()
        })
    }
    usize::from(result.get("error").is_some()) + result.get("ops").map_or(0, in_ops)
}
