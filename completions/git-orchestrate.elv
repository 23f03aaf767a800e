
use builtin;
use str;

set edit:completion:arg-completer[git-orchestrate] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'git-orchestrate'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'git-orchestrate'= {
            cand --issue 'The issue, as an option (same as the positional ISSUE)'
            cand --issue-file 'Read the issue from a Markdown file (its first `# ` line is the title) instead of GitHub'
            cand --until 'Stop after this stage (triage, lld, spec, impl, pr); `--until spec`: design documents only'
            cand --resume-from 'Take earlier stages as they are on the branch; redo STAGE and everything after it'
            cand --skip 'Do not run STAGE (repeatable)'
            cand --gate 'Turn on a gate for this run: after_lld, after_spec, before_pr (repeatable)'
            cand --no-gate 'Turn off a gate for this run (repeatable)'
            cand --base 'Base branch for a new issue branch and its pull request (default: the branch checked out now)'
            cand -j 'With several issues, run up to N at once (each in its own worktree); one table at the end says how each ended'
            cand --jobs 'With several issues, run up to N at once (each in its own worktree); one table at the end says how each ended'
            cand -c 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)'
            cand --config 'Use this configuration file instead of the repository''s .orchestrate.toml'
            cand --dry-run 'Print the plan (each stage: run or skip and why, gates, models, branch, paths) and change nothing; no model is called'
            cand --skip-lld 'Do not run the lld stage, even if there is no design yet'
            cand --skip-spec 'Do not run the spec stage, even if there is no spec yet'
            cand --gate-before-pr 'Ask for approval before the pull request, whatever the configuration says'
            cand --no-gate-before-pr 'Do not ask for approval before the pull request'
            cand --update-base 'Merge the base branch into the issue branch before impl, in memory (a conflict changes nothing); while the branch holds only the design documents, impl starts from the base''s current tip without it'
            cand --allow-red-baseline 'Take failures the tests already have on the unchanged tree as known: impl then requires only that no new test fails (stages.impl.allow_red_baseline)'
            cand --force 'Run on a closed or locked GitHub issue'
            cand --keep-stale 'Keep stages whose inputs changed since they were made (an edited issue, a hand-edited design) as they are, instead of redoing them (orchestrator.on_stale = "keep")'
            cand --no-input 'Never prompt; a gate stops the run (also when there is no terminal)'
            cand --json 'Machine-readable events, one JSON object per line, on stdout'
            cand -v 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand --verbose 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand -q 'Say less: only errors, warnings and what a gate needs from you'
            cand --quiet 'Say less: only errors, warnings and what a gate needs from you'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run the pipeline for issues (the default command)'
            cand status 'Show where issues stand, read from their branches'
            cand approve 'Pass the gate an issue is waiting at'
            cand reject 'Reject at the gate; the stage is revised with your feedback on the next run'
            cand clean 'Remove an issue''s worktree and local run state; with --branch, its branch too'
            cand action 'In GitHub Actions: act on the event that started the job (a label, a command comment)'
            cand doctor 'Check whether a run could start here, and say what to fix'
            cand init 'Write a commented .orchestrate.toml for this machine; --github-action adds a workflow'
            cand eval 'Replay this repository''s history as tasks, judged by the tests each commit added'
            cand completions 'Print the completion script for a shell (bash, zsh, fish, elvish, powershell)'
            cand install-docs 'Install the manual pages and completion scripts where man and the shells find them'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'git-orchestrate;run'= {
            cand --issue 'The issue, as an option (same as the positional ISSUE)'
            cand --issue-file 'Read the issue from a Markdown file (its first `# ` line is the title) instead of GitHub'
            cand --until 'Stop after this stage (triage, lld, spec, impl, pr); `--until spec`: design documents only'
            cand --resume-from 'Take earlier stages as they are on the branch; redo STAGE and everything after it'
            cand --skip 'Do not run STAGE (repeatable)'
            cand --gate 'Turn on a gate for this run: after_lld, after_spec, before_pr (repeatable)'
            cand --no-gate 'Turn off a gate for this run (repeatable)'
            cand --base 'Base branch for a new issue branch and its pull request (default: the branch checked out now)'
            cand -j 'With several issues, run up to N at once (each in its own worktree); one table at the end says how each ended'
            cand --jobs 'With several issues, run up to N at once (each in its own worktree); one table at the end says how each ended'
            cand -c 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)'
            cand --config 'Use this configuration file instead of the repository''s .orchestrate.toml'
            cand --dry-run 'Print the plan (each stage: run or skip and why, gates, models, branch, paths) and change nothing; no model is called'
            cand --skip-lld 'Do not run the lld stage, even if there is no design yet'
            cand --skip-spec 'Do not run the spec stage, even if there is no spec yet'
            cand --gate-before-pr 'Ask for approval before the pull request, whatever the configuration says'
            cand --no-gate-before-pr 'Do not ask for approval before the pull request'
            cand --update-base 'Merge the base branch into the issue branch before impl, in memory (a conflict changes nothing); while the branch holds only the design documents, impl starts from the base''s current tip without it'
            cand --allow-red-baseline 'Take failures the tests already have on the unchanged tree as known: impl then requires only that no new test fails (stages.impl.allow_red_baseline)'
            cand --force 'Run on a closed or locked GitHub issue'
            cand --keep-stale 'Keep stages whose inputs changed since they were made (an edited issue, a hand-edited design) as they are, instead of redoing them (orchestrator.on_stale = "keep")'
            cand --no-input 'Never prompt; a gate stops the run (also when there is no terminal)'
            cand --json 'Machine-readable events, one JSON object per line, on stdout'
            cand -v 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand --verbose 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand -q 'Say less: only errors, warnings and what a gate needs from you'
            cand --quiet 'Say less: only errors, warnings and what a gate needs from you'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'git-orchestrate;status'= {
            cand -c 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)'
            cand --config 'Use this configuration file instead of the repository''s .orchestrate.toml'
            cand --json 'Print JSON instead of a table'
            cand --refresh 'Read the issue from GitHub (one request per issue) to tell whether its brief is stale; without it, status reads only the branches, offline'
            cand -v 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand --verbose 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand -q 'Say less: only errors, warnings and what a gate needs from you'
            cand --quiet 'Say less: only errors, warnings and what a gate needs from you'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'git-orchestrate;approve'= {
            cand --gate 'The gate to pass (after_lld, after_spec, before_pr); default: the one the issue waits at'
            cand -c 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)'
            cand --config 'Use this configuration file instead of the repository''s .orchestrate.toml'
            cand -v 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand --verbose 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand -q 'Say less: only errors, warnings and what a gate needs from you'
            cand --quiet 'Say less: only errors, warnings and what a gate needs from you'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'git-orchestrate;reject'= {
            cand -m 'What should change: given to the drafter when the stage is revised'
            cand --message 'What should change: given to the drafter when the stage is revised'
            cand --gate 'The gate to reject at; default: the one the issue waits at'
            cand -c 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)'
            cand --config 'Use this configuration file instead of the repository''s .orchestrate.toml'
            cand -v 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand --verbose 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand -q 'Say less: only errors, warnings and what a gate needs from you'
            cand --quiet 'Say less: only errors, warnings and what a gate needs from you'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'git-orchestrate;clean'= {
            cand -c 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)'
            cand --config 'Use this configuration file instead of the repository''s .orchestrate.toml'
            cand --all 'Every issue that has a worktree or local state (with --branch, also every issue branch)'
            cand --branch 'Delete the issue''s branch too; one whose commits no remote-tracking branch has needs --force. A branch with commits git orchestrate did not make (no Orchestrate-* trailer) is never deleted by --all, and needs --force when its issue is named'
            cand --force 'Also delete work saved from runs (recovered/), unpushed branches and branches with a person''s commits with --branch, and a worktree whose changes cannot be saved'
            cand -v 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand --verbose 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand -q 'Say less: only errors, warnings and what a gate needs from you'
            cand --quiet 'Say less: only errors, warnings and what a gate needs from you'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'git-orchestrate;action'= {
            cand -c 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)'
            cand --config 'Use this configuration file instead of the repository''s .orchestrate.toml'
            cand -v 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand --verbose 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand -q 'Say less: only errors, warnings and what a gate needs from you'
            cand --quiet 'Say less: only errors, warnings and what a gate needs from you'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'git-orchestrate;doctor'= {
            cand --timeout 'The longest one network check may take (all of them together take at most 25s)'
            cand -c 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)'
            cand --config 'Use this configuration file instead of the repository''s .orchestrate.toml'
            cand --offline 'Send no request: look for keys, tokens and programs without trying them'
            cand --json 'Print one JSON document instead of lines'
            cand -v 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand --verbose 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand -q 'Say less: only errors, warnings and what a gate needs from you'
            cand --quiet 'Say less: only errors, warnings and what a gate needs from you'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'git-orchestrate;init'= {
            cand -c 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)'
            cand --config 'Use this configuration file instead of the repository''s .orchestrate.toml'
            cand --github-action 'Also write .github/workflows/orchestrate.yml: run on issues labelled `orchestrate` and on `/orchestrate` comments. A .orchestrate.toml already there is kept'
            cand --force 'Replace files that already exist (with --github-action, only the workflow)'
            cand -v 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand --verbose 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand -q 'Say less: only errors, warnings and what a gate needs from you'
            cand --quiet 'Say less: only errors, warnings and what a gate needs from you'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'git-orchestrate;eval'= {
            cand --issue-text 'Where a task''s issue text comes from: the commit message, or the GitHub issue it names (Fixes #12)'
            cand --limit 'Run at most N valid tasks, the first ones of the range'
            cand --sample 'Run N valid tasks chosen at random (reproducibly, with --seed)'
            cand --seed 'The seed of --sample''s choice'
            cand --budget 'The most a task may cost, in USD (budget.max_usd_per_issue)'
            cand -j 'Run up to N tasks at once, each in its own scratch repository and worktree'
            cand --jobs 'Run up to N tasks at once, each in its own scratch repository and worktree'
            cand --resume 'Go on with an eval run that was stopped; finished tasks are not run again'
            cand --clean 'Remove an eval run''s refs (refs/orchestrate-eval/RUN-ID/) and scratch repositories; its reports stay'
            cand --compare 'Set two eval runs side by side: which tasks each solved, and what each cost'
            cand -c 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)'
            cand --config 'Use this configuration file instead of the repository''s .orchestrate.toml'
            cand --merges 'Take the range''s first-parent merge commits (merged pull requests) instead of its commits'
            cand --json 'Machine-readable output: the tasks'' run events and the eval''s own, one JSON object per line; the last line is the report'
            cand -v 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand --verbose 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand -q 'Say less: only errors, warnings and what a gate needs from you'
            cand --quiet 'Say less: only errors, warnings and what a gate needs from you'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'git-orchestrate;completions'= {
            cand -c 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)'
            cand --config 'Use this configuration file instead of the repository''s .orchestrate.toml'
            cand -v 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand --verbose 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand -q 'Say less: only errors, warnings and what a gate needs from you'
            cand --quiet 'Say less: only errors, warnings and what a gate needs from you'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'git-orchestrate;install-docs'= {
            cand --prefix 'Install below DIR/share (man/man1, bash-completion/completions, zsh/site-functions, fish/vendor_completions.d) instead of beside this program and in your own directories'
            cand -c 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)'
            cand --config 'Use this configuration file instead of the repository''s .orchestrate.toml'
            cand -v 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand --verbose 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
            cand -q 'Say less: only errors, warnings and what a gate needs from you'
            cand --quiet 'Say less: only errors, warnings and what a gate needs from you'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'git-orchestrate;help'= {
            cand run 'Run the pipeline for issues (the default command)'
            cand status 'Show where issues stand, read from their branches'
            cand approve 'Pass the gate an issue is waiting at'
            cand reject 'Reject at the gate; the stage is revised with your feedback on the next run'
            cand clean 'Remove an issue''s worktree and local run state; with --branch, its branch too'
            cand action 'In GitHub Actions: act on the event that started the job (a label, a command comment)'
            cand doctor 'Check whether a run could start here, and say what to fix'
            cand init 'Write a commented .orchestrate.toml for this machine; --github-action adds a workflow'
            cand eval 'Replay this repository''s history as tasks, judged by the tests each commit added'
            cand completions 'Print the completion script for a shell (bash, zsh, fish, elvish, powershell)'
            cand install-docs 'Install the manual pages and completion scripts where man and the shells find them'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'git-orchestrate;help;run'= {
        }
        &'git-orchestrate;help;status'= {
        }
        &'git-orchestrate;help;approve'= {
        }
        &'git-orchestrate;help;reject'= {
        }
        &'git-orchestrate;help;clean'= {
        }
        &'git-orchestrate;help;action'= {
        }
        &'git-orchestrate;help;doctor'= {
        }
        &'git-orchestrate;help;init'= {
        }
        &'git-orchestrate;help;eval'= {
        }
        &'git-orchestrate;help;completions'= {
        }
        &'git-orchestrate;help;install-docs'= {
        }
        &'git-orchestrate;help;help'= {
        }
    ]
    $completions[$command]
}
