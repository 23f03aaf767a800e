//! What models cost, and whether the budget allows another call.
//!
//! Every attempt's usage is recorded as it is reported, priced, and kept per stage: for the
//! run, and until the stage's next commit (whose `Orchestrate-Tokens` and `Orchestrate-Cost`
//! trailers then say what that commit's work cost, failed calls included). Before each call,
//! what the branch's trailers say was spent before this run, plus what this run spent, is
//! checked against `[budget]`.
//!
//! A call that reports no usage (a `cmd:` program; an OpenAI-compatible server that streams
//! none, as llama.cpp's does) to a model that is not free has an unknown cost: its stage and
//! the run claim no cost from then on, and where a limit depends on it no further call is
//! made: the stage blocks, keeping what was produced. Programs, which never report usage, are
//! refused under a budget before any call unless declared free (see `Models::build`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::branch::message::{TRAILER_COST, TRAILER_ISSUE, TRAILER_STAGE};
use crate::config::{BudgetConfig, ModelSpec};
use crate::git::{GitError, ObjectId, Repo};
use crate::llm::Usage;
use crate::llm::pricing::{PriceBook, cost};
use crate::stage::Stage;

/// Usage and cost of some calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Spent {
    pub usage: Usage,
    pub usd: f64,
    /// Some call reported usage (programs run through `cmd:` report none).
    pub reported: bool,
    /// Some call's model has no known price, so `usd` is a lower bound.
    pub unpriced: bool,
    /// Some call to a model that is not free reported no usage, so `usd` is a lower bound.
    pub unmetered: bool,
}

impl Spent {
    pub fn add(&mut self, other: Spent) {
        self.usage.add(other.usage);
        self.usd += other.usd;
        self.reported |= other.reported;
        self.unpriced |= other.unpriced;
        self.unmetered |= other.unmetered;
    }

    /// The cost, when every call was priced and reported its usage.
    pub fn cost(&self) -> Option<f64> {
        (self.reported && !self.unpriced && !self.unmetered).then_some(self.usd)
    }

    pub fn usage(&self) -> Option<Usage> {
        self.reported.then_some(self.usage)
    }
}

/// Why a call may not be made.
#[derive(Clone, Debug, PartialEq)]
pub struct OverBudget {
    pub message: String,
}

#[derive(Debug)]
pub struct Ledger {
    book: PriceBook,
    budget: BudgetConfig,
    issue: u64,
    /// Spent before this run, from the branch's `Orchestrate-Cost` trailers, by stage.
    earlier: BTreeMap<Stage, f64>,
    run: BTreeMap<Stage, Spent>,
    pending: BTreeMap<Stage, Spent>,
    /// Stages whose spend is unknown in this run, with the model whose call reported no usage.
    unmetered: BTreeMap<Stage, String>,
}

impl Ledger {
    pub fn new(book: PriceBook, budget: BudgetConfig, issue: u64) -> Ledger {
        Ledger {
            book,
            budget,
            issue,
            earlier: BTreeMap::new(),
            run: BTreeMap::new(),
            pending: BTreeMap::new(),
            unmetered: BTreeMap::new(),
        }
    }

    pub fn budget(&self) -> &BudgetConfig {
        &self.budget
    }

    pub fn book(&self) -> &PriceBook {
        &self.book
    }

    /// Read what earlier runs spent on this issue from the branch history (only needed when a
    /// budget is set). The walk ends below the commit that added the issue's brief: no
    /// orchestrate commit of the issue comes before its brief.
    pub fn read_branch(
        &mut self,
        repo: &Repo,
        tip: Option<ObjectId>,
        brief: &str,
    ) -> Result<(), GitError> {
        let Some(tip) = tip else { return Ok(()) };
        let issue = self.issue.to_string();
        for id in repo.first_parent_chain(tip) {
            let id = id?;
            let info = repo.commit_info(id)?;
            if info.trailer(TRAILER_ISSUE) == Some(issue.as_str())
                && let (Some(stage), Some(usd)) = (
                    info.trailer(TRAILER_STAGE).and_then(Stage::parse),
                    info.trailer(TRAILER_COST)
                        .and_then(|c| c.trim().parse::<f64>().ok()),
                )
            {
                *self.earlier.entry(stage).or_default() += usd;
            }
            let brief_before = match repo.first_parent(id)? {
                Some(parent) => repo.blob_id(parent, brief)?.is_some(),
                None => false,
            };
            if !brief_before && repo.blob_id(id, brief)?.is_some() {
                break;
            }
        }
        Ok(())
    }

    /// Record one attempt's usage with `model`; returns it with its cost.
    pub fn record(&mut self, stage: Stage, model: &ModelSpec, usage: Usage) -> Spent {
        let price = self.book.price(model);
        let usd = price.map(|p| cost(&p, &usage));
        let spent = Spent {
            usage,
            usd: usd.unwrap_or(0.0),
            reported: true,
            unpriced: usd.is_none(),
            unmetered: false,
        };
        self.run.entry(stage).or_default().add(spent);
        self.pending.entry(stage).or_default().add(spent);
        spent
    }

    /// A call to `model` for `stage` reported no usage. Unless the model is free, what the
    /// stage spent is unknown from now on: no cost is claimed for it, and a limit that
    /// depends on it allows no further call.
    pub fn unreported(&mut self, stage: Stage, model: &ModelSpec) {
        if self.book.price(model).is_some_and(|p| p.is_free()) {
            return;
        }
        self.unmetered.entry(stage).or_insert_with(|| model.label());
        let unknown = Spent {
            unmetered: true,
            ..Spent::default()
        };
        self.run.entry(stage).or_default().add(unknown);
        self.pending.entry(stage).or_default().add(unknown);
    }

    /// What the stage spent since its last commit; the next commit records it.
    pub fn take_pending(&mut self, stage: Stage) -> Spent {
        self.pending.remove(&stage).unwrap_or_default()
    }

    /// What this run spent on `stage`.
    pub fn run_spent(&self, stage: Stage) -> Spent {
        self.run.get(&stage).copied().unwrap_or_default()
    }

    /// What this run spent in all.
    pub fn run_total(&self) -> Spent {
        let mut total = Spent::default();
        for spent in self.run.values() {
            total.add(*spent);
        }
        total
    }

    fn spent_on(&self, stage: Stage) -> f64 {
        self.earlier.get(&stage).copied().unwrap_or(0.0) + self.run_spent(stage).usd
    }

    fn spent_in_all(&self) -> f64 {
        self.earlier.values().sum::<f64>() + self.run_total().usd
    }

    /// Whether another call for `stage` is within the budget.
    pub fn check(&self, stage: Stage) -> Result<(), OverBudget> {
        let unknown = |model: &str, what: String| OverBudget {
            message: format!(
                "{model} reported no token usage, so what {what} has cost is unknown; with a budget set, no further call is made"
            ),
        };
        if self.budget.per_issue.is_some()
            && let Some(model) = self.unmetered.values().next()
        {
            return Err(unknown(model, format!("#{}", self.issue)));
        }
        if self.budget.for_stage(stage.name()).is_some()
            && let Some(model) = self.unmetered.get(&stage)
        {
            return Err(unknown(model, stage.to_string()));
        }
        if let Some(limit) = self.budget.per_issue
            && self.spent_in_all() >= limit
        {
            return Err(OverBudget {
                message: format!(
                    "over budget: ${:.4} spent on #{} of its max_usd_per_issue ${limit:.2} ({})",
                    self.spent_in_all(),
                    self.issue,
                    self.breakdown()
                ),
            });
        }
        if let Some(limit) = self.budget.for_stage(stage.name())
            && self.spent_on(stage) >= limit
        {
            return Err(OverBudget {
                message: format!(
                    "over budget: ${:.4} spent on {stage} of its ${limit:.2} limit ({})",
                    self.spent_on(stage),
                    self.breakdown()
                ),
            });
        }
        Ok(())
    }

    /// `triage $0.0000, lld $1.2345 (earlier runs $1.0000)`.
    pub fn breakdown(&self) -> String {
        let mut parts = Vec::new();
        for stage in Stage::ALL {
            let earlier = self.earlier.get(&stage).copied().unwrap_or(0.0);
            let now = self.run_spent(stage).usd;
            if earlier == 0.0 && now == 0.0 {
                continue;
            }
            let mut part = format!("{stage} ${:.4}", earlier + now);
            if earlier > 0.0 {
                part.push_str(&format!(" of which earlier runs ${earlier:.4}"));
            }
            parts.push(part);
        }
        if parts.is_empty() {
            "nothing spent yet".into()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger_with(budget: BudgetConfig, prices: &[(&str, f64)]) -> Ledger {
        let prices = prices
            .iter()
            .map(|(model, rate)| {
                let price = crate::config::Price {
                    input: *rate,
                    output: *rate,
                    cached_input: *rate,
                    cache_write: *rate,
                };
                (model.to_string(), price)
            })
            .collect();
        Ledger::new(PriceBook::new(&prices), budget, 7)
    }

    fn spec(text: &str) -> ModelSpec {
        ModelSpec::parse(text, &[]).unwrap()
    }

    #[test]
    fn an_unreported_call_stops_only_the_limits_that_cover_it() {
        let spec_only = BudgetConfig {
            stages: [("spec".to_string(), 1.0)].into(),
            ..BudgetConfig::default()
        };
        let mut ledger = ledger_with(spec_only, &[("gpt-5", 1.0)]);
        ledger.unreported(Stage::Lld, &spec("openai:gpt-5"));
        assert_eq!(ledger.take_pending(Stage::Lld).cost(), None);
        assert!(ledger.check(Stage::Lld).is_ok(), "lld has no limit");
        assert!(ledger.check(Stage::Spec).is_ok(), "spec's spend is known");
        ledger.unreported(Stage::Spec, &spec("openai:gpt-5"));
        let over = ledger.check(Stage::Spec).unwrap_err();
        assert!(
            over.message
                .starts_with("openai:gpt-5 reported no token usage, so what spec has cost"),
            "{}",
            over.message
        );

        let per_issue = BudgetConfig {
            per_issue: Some(5.0),
            ..BudgetConfig::default()
        };
        let mut ledger = ledger_with(per_issue, &[("free-model", 0.0)]);
        // A free model's cost is known without its usage.
        ledger.unreported(Stage::Lld, &spec("openai:free-model"));
        assert!(ledger.check(Stage::Spec).is_ok());
        ledger.unreported(Stage::Lld, &spec("openai:gpt-5"));
        assert!(
            ledger.check(Stage::Spec).is_err(),
            "the issue's spend is unknown"
        );
    }
}
