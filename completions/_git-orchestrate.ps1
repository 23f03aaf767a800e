
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'git-orchestrate' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'git-orchestrate'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'git-orchestrate' {
            [CompletionResult]::new('--issue', '--issue', [CompletionResultType]::ParameterName, 'The issue, as an option (same as the positional ISSUE)')
            [CompletionResult]::new('--issue-file', '--issue-file', [CompletionResultType]::ParameterName, 'Read the issue from a Markdown file (its first `# ` line is the title) instead of GitHub')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Stop after this stage (triage, lld, spec, impl, pr); `--until spec`: design documents only')
            [CompletionResult]::new('--resume-from', '--resume-from', [CompletionResultType]::ParameterName, 'Take earlier stages as they are on the branch; redo STAGE and everything after it')
            [CompletionResult]::new('--skip', '--skip', [CompletionResultType]::ParameterName, 'Do not run STAGE (repeatable)')
            [CompletionResult]::new('--gate', '--gate', [CompletionResultType]::ParameterName, 'Turn on a gate for this run: after_lld, after_spec, before_pr (repeatable)')
            [CompletionResult]::new('--no-gate', '--no-gate', [CompletionResultType]::ParameterName, 'Turn off a gate for this run (repeatable)')
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'Base branch for a new issue branch and its pull request (default: the branch checked out now)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'With several issues, run up to N at once (each in its own worktree); one table at the end says how each ended')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'With several issues, run up to N at once (each in its own worktree); one table at the end says how each ended')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this configuration file instead of the repository''s .orchestrate.toml')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan (each stage: run or skip and why, gates, models, branch, paths) and change nothing; no model is called')
            [CompletionResult]::new('--skip-lld', '--skip-lld', [CompletionResultType]::ParameterName, 'Do not run the lld stage, even if there is no design yet')
            [CompletionResult]::new('--skip-spec', '--skip-spec', [CompletionResultType]::ParameterName, 'Do not run the spec stage, even if there is no spec yet')
            [CompletionResult]::new('--gate-before-pr', '--gate-before-pr', [CompletionResultType]::ParameterName, 'Ask for approval before the pull request, whatever the configuration says')
            [CompletionResult]::new('--no-gate-before-pr', '--no-gate-before-pr', [CompletionResultType]::ParameterName, 'Do not ask for approval before the pull request')
            [CompletionResult]::new('--update-base', '--update-base', [CompletionResultType]::ParameterName, 'Merge the base branch into the issue branch before impl, in memory (a conflict changes nothing); while the branch holds only the design documents, impl starts from the base''s current tip without it')
            [CompletionResult]::new('--allow-red-baseline', '--allow-red-baseline', [CompletionResultType]::ParameterName, 'Take failures the tests already have on the unchanged tree as known: impl then requires only that no new test fails (stages.impl.allow_red_baseline)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Run on a closed or locked GitHub issue')
            [CompletionResult]::new('--keep-stale', '--keep-stale', [CompletionResultType]::ParameterName, 'Keep stages whose inputs changed since they were made (an edited issue, a hand-edited design) as they are, instead of redoing them (orchestrator.on_stale = "keep")')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a gate stops the run (also when there is no terminal)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable events, one JSON object per line, on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the pipeline for issues (the default command)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show where issues stand, read from their branches')
            [CompletionResult]::new('approve', 'approve', [CompletionResultType]::ParameterValue, 'Pass the gate an issue is waiting at')
            [CompletionResult]::new('reject', 'reject', [CompletionResultType]::ParameterValue, 'Reject at the gate; the stage is revised with your feedback on the next run')
            [CompletionResult]::new('clean', 'clean', [CompletionResultType]::ParameterValue, 'Remove an issue''s worktree and local run state; with --branch, its branch too')
            [CompletionResult]::new('action', 'action', [CompletionResultType]::ParameterValue, 'In GitHub Actions: act on the event that started the job (a label, a command comment)')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check whether a run could start here, and say what to fix')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented .orchestrate.toml for this machine; --github-action adds a workflow')
            [CompletionResult]::new('eval', 'eval', [CompletionResultType]::ParameterValue, 'Replay this repository''s history as tasks, judged by the tests each commit added')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell (bash, zsh, fish, elvish, powershell)')
            [CompletionResult]::new('install-docs', 'install-docs', [CompletionResultType]::ParameterValue, 'Install the manual pages and completion scripts where man and the shells find them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'git-orchestrate;run' {
            [CompletionResult]::new('--issue', '--issue', [CompletionResultType]::ParameterName, 'The issue, as an option (same as the positional ISSUE)')
            [CompletionResult]::new('--issue-file', '--issue-file', [CompletionResultType]::ParameterName, 'Read the issue from a Markdown file (its first `# ` line is the title) instead of GitHub')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Stop after this stage (triage, lld, spec, impl, pr); `--until spec`: design documents only')
            [CompletionResult]::new('--resume-from', '--resume-from', [CompletionResultType]::ParameterName, 'Take earlier stages as they are on the branch; redo STAGE and everything after it')
            [CompletionResult]::new('--skip', '--skip', [CompletionResultType]::ParameterName, 'Do not run STAGE (repeatable)')
            [CompletionResult]::new('--gate', '--gate', [CompletionResultType]::ParameterName, 'Turn on a gate for this run: after_lld, after_spec, before_pr (repeatable)')
            [CompletionResult]::new('--no-gate', '--no-gate', [CompletionResultType]::ParameterName, 'Turn off a gate for this run (repeatable)')
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'Base branch for a new issue branch and its pull request (default: the branch checked out now)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'With several issues, run up to N at once (each in its own worktree); one table at the end says how each ended')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'With several issues, run up to N at once (each in its own worktree); one table at the end says how each ended')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this configuration file instead of the repository''s .orchestrate.toml')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan (each stage: run or skip and why, gates, models, branch, paths) and change nothing; no model is called')
            [CompletionResult]::new('--skip-lld', '--skip-lld', [CompletionResultType]::ParameterName, 'Do not run the lld stage, even if there is no design yet')
            [CompletionResult]::new('--skip-spec', '--skip-spec', [CompletionResultType]::ParameterName, 'Do not run the spec stage, even if there is no spec yet')
            [CompletionResult]::new('--gate-before-pr', '--gate-before-pr', [CompletionResultType]::ParameterName, 'Ask for approval before the pull request, whatever the configuration says')
            [CompletionResult]::new('--no-gate-before-pr', '--no-gate-before-pr', [CompletionResultType]::ParameterName, 'Do not ask for approval before the pull request')
            [CompletionResult]::new('--update-base', '--update-base', [CompletionResultType]::ParameterName, 'Merge the base branch into the issue branch before impl, in memory (a conflict changes nothing); while the branch holds only the design documents, impl starts from the base''s current tip without it')
            [CompletionResult]::new('--allow-red-baseline', '--allow-red-baseline', [CompletionResultType]::ParameterName, 'Take failures the tests already have on the unchanged tree as known: impl then requires only that no new test fails (stages.impl.allow_red_baseline)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Run on a closed or locked GitHub issue')
            [CompletionResult]::new('--keep-stale', '--keep-stale', [CompletionResultType]::ParameterName, 'Keep stages whose inputs changed since they were made (an edited issue, a hand-edited design) as they are, instead of redoing them (orchestrator.on_stale = "keep")')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; a gate stops the run (also when there is no terminal)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable events, one JSON object per line, on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'git-orchestrate;status' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this configuration file instead of the repository''s .orchestrate.toml')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('--refresh', '--refresh', [CompletionResultType]::ParameterName, 'Read the issue from GitHub (one request per issue) to tell whether its brief is stale; without it, status reads only the branches, offline')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'git-orchestrate;approve' {
            [CompletionResult]::new('--gate', '--gate', [CompletionResultType]::ParameterName, 'The gate to pass (after_lld, after_spec, before_pr); default: the one the issue waits at')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this configuration file instead of the repository''s .orchestrate.toml')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'git-orchestrate;reject' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'What should change: given to the drafter when the stage is revised')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'What should change: given to the drafter when the stage is revised')
            [CompletionResult]::new('--gate', '--gate', [CompletionResultType]::ParameterName, 'The gate to reject at; default: the one the issue waits at')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this configuration file instead of the repository''s .orchestrate.toml')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'git-orchestrate;clean' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this configuration file instead of the repository''s .orchestrate.toml')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every issue that has a worktree or local state (with --branch, also every issue branch)')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'Delete the issue''s branch too; one whose commits no remote-tracking branch has needs --force. A branch with commits git orchestrate did not make (no Orchestrate-* trailer) is never deleted by --all, and needs --force when its issue is named')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Also delete work saved from runs (recovered/), unpushed branches and branches with a person''s commits with --branch, and a worktree whose changes cannot be saved')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'git-orchestrate;action' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this configuration file instead of the repository''s .orchestrate.toml')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'git-orchestrate;doctor' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'The longest one network check may take (all of them together take at most 25s)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this configuration file instead of the repository''s .orchestrate.toml')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Send no request: look for keys, tokens and programs without trying them')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of lines')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'git-orchestrate;init' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this configuration file instead of the repository''s .orchestrate.toml')
            [CompletionResult]::new('--github-action', '--github-action', [CompletionResultType]::ParameterName, 'Also write .github/workflows/orchestrate.yml: run on issues labelled `orchestrate` and on `/orchestrate` comments. A .orchestrate.toml already there is kept')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace files that already exist (with --github-action, only the workflow)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'git-orchestrate;eval' {
            [CompletionResult]::new('--issue-text', '--issue-text', [CompletionResultType]::ParameterName, 'Where a task''s issue text comes from: the commit message, or the GitHub issue it names (Fixes #12)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Run at most N valid tasks, the first ones of the range')
            [CompletionResult]::new('--sample', '--sample', [CompletionResultType]::ParameterName, 'Run N valid tasks chosen at random (reproducibly, with --seed)')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'The seed of --sample''s choice')
            [CompletionResult]::new('--budget', '--budget', [CompletionResultType]::ParameterName, 'The most a task may cost, in USD (budget.max_usd_per_issue)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Run up to N tasks at once, each in its own scratch repository and worktree')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Run up to N tasks at once, each in its own scratch repository and worktree')
            [CompletionResult]::new('--resume', '--resume', [CompletionResultType]::ParameterName, 'Go on with an eval run that was stopped; finished tasks are not run again')
            [CompletionResult]::new('--clean', '--clean', [CompletionResultType]::ParameterName, 'Remove an eval run''s refs (refs/orchestrate-eval/RUN-ID/) and scratch repositories; its reports stay')
            [CompletionResult]::new('--compare', '--compare', [CompletionResultType]::ParameterName, 'Set two eval runs side by side: which tasks each solved, and what each cost')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this configuration file instead of the repository''s .orchestrate.toml')
            [CompletionResult]::new('--merges', '--merges', [CompletionResultType]::ParameterName, 'Take the range''s first-parent merge commits (merged pull requests) instead of its commits')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: the tasks'' run events and the eval''s own, one JSON object per line; the last line is the report')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'git-orchestrate;completions' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this configuration file instead of the repository''s .orchestrate.toml')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'git-orchestrate;install-docs' {
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Install below DIR/share (man/man1, bash-completion/completions, zsh/site-functions, fish/vendor_completions.d) instead of beside this program and in your own directories')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this configuration file instead of the repository''s .orchestrate.toml')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Say less: only errors, warnings and what a gate needs from you')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'git-orchestrate;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the pipeline for issues (the default command)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show where issues stand, read from their branches')
            [CompletionResult]::new('approve', 'approve', [CompletionResultType]::ParameterValue, 'Pass the gate an issue is waiting at')
            [CompletionResult]::new('reject', 'reject', [CompletionResultType]::ParameterValue, 'Reject at the gate; the stage is revised with your feedback on the next run')
            [CompletionResult]::new('clean', 'clean', [CompletionResultType]::ParameterValue, 'Remove an issue''s worktree and local run state; with --branch, its branch too')
            [CompletionResult]::new('action', 'action', [CompletionResultType]::ParameterValue, 'In GitHub Actions: act on the event that started the job (a label, a command comment)')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check whether a run could start here, and say what to fix')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented .orchestrate.toml for this machine; --github-action adds a workflow')
            [CompletionResult]::new('eval', 'eval', [CompletionResultType]::ParameterValue, 'Replay this repository''s history as tasks, judged by the tests each commit added')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell (bash, zsh, fish, elvish, powershell)')
            [CompletionResult]::new('install-docs', 'install-docs', [CompletionResultType]::ParameterValue, 'Install the manual pages and completion scripts where man and the shells find them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'git-orchestrate;help;run' {
            break
        }
        'git-orchestrate;help;status' {
            break
        }
        'git-orchestrate;help;approve' {
            break
        }
        'git-orchestrate;help;reject' {
            break
        }
        'git-orchestrate;help;clean' {
            break
        }
        'git-orchestrate;help;action' {
            break
        }
        'git-orchestrate;help;doctor' {
            break
        }
        'git-orchestrate;help;init' {
            break
        }
        'git-orchestrate;help;eval' {
            break
        }
        'git-orchestrate;help;completions' {
            break
        }
        'git-orchestrate;help;install-docs' {
            break
        }
        'git-orchestrate;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
