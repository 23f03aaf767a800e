//! What models cost, and whether the budget allows another call.
//!
//! Every attempt's usage is recorded as it is reported, priced, and kept per stage: for the
//! run, and until the stage's next commit (whose `Orchestrate-Tokens` and `Orchestrate-Cost`
//! trailers then say what that commit's work cost, failed calls included). Before each call,
//! what the branch's trailers say was spent before this run, plus what this run spent, is
//! checked against `[budget]`.

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
}

impl Spent {
    pub fn add(&mut self, other: Spent) {
        self.usage.add(other.usage);
        self.usd += other.usd;
        self.reported |= other.reported;
        self.unpriced |= other.unpriced;
    }

    /// The cost, when every call was priced.
    pub fn cost(&self) -> Option<f64> {
        (self.reported && !self.unpriced).then_some(self.usd)
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
        };
        self.run.entry(stage).or_default().add(spent);
        self.pending.entry(stage).or_default().add(spent);
        spent
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
