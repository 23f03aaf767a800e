//! `--json`: every event as one JSON object per line on stdout.

use std::io::Write;
use std::sync::Mutex;

use crate::pipeline::{Event, EventSink};

pub struct JsonRenderer {
    out: Mutex<std::io::Stdout>,
}

impl Default for JsonRenderer {
    fn default() -> Self {
        JsonRenderer::new()
    }
}

impl JsonRenderer {
    pub fn new() -> JsonRenderer {
        JsonRenderer {
            out: Mutex::new(std::io::stdout()),
        }
    }
}

impl EventSink for JsonRenderer {
    fn emit(&self, event: Event) {
        let Ok(line) = serde_json::to_string(&event) else {
            return;
        };
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        // A reader that went away is not the run's problem: the run finishes regardless.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}
