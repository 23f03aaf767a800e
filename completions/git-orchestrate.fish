# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_git_orchestrate_global_optspecs
    string join \n issue= issue-file= until= dry-run resume-from= skip-lld skip-spec skip= gate-before-pr no-gate-before-pr gate= no-gate= base= update-base allow-red-baseline force keep-stale no-input json j/jobs= c= config= v/verbose q/quiet h/help V/version
end

function __fish_git_orchestrate_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_git_orchestrate_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_git_orchestrate_using_subcommand
    set -l cmd (__fish_git_orchestrate_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l issue -d 'The issue, as an option (same as the positional ISSUE)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l issue-file -d 'Read the issue from a Markdown file (its first `# ` line is the title) instead of GitHub' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l until -d 'Stop after this stage (triage, lld, spec, impl, pr); `--until spec`: design documents only' -r -f -a "triage\t''
lld\t''
spec\t''
impl\t''
pr\t''"
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l resume-from -d 'Take earlier stages as they are on the branch; redo STAGE and everything after it' -r -f -a "triage\t''
lld\t''
spec\t''
impl\t''
pr\t''"
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l skip -d 'Do not run STAGE (repeatable)' -r -f -a "triage\t''
lld\t''
spec\t''
impl\t''
pr\t''"
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l gate -d 'Turn on a gate for this run: after_lld, after_spec, before_pr (repeatable)' -r -f -a "after_lld\t''
after_spec\t''
before_pr\t''"
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l no-gate -d 'Turn off a gate for this run (repeatable)' -r -f -a "after_lld\t''
after_spec\t''
before_pr\t''"
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l base -d 'Base branch for a new issue branch and its pull request (default: the branch checked out now)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -s j -l jobs -d 'With several issues, run up to N at once (each in its own worktree); one table at the end says how each ended' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -s c -d 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l config -d 'Use this configuration file instead of the repository\'s .orchestrate.toml' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l dry-run -d 'Print the plan (each stage: run or skip and why, gates, models, branch, paths) and change nothing; no model is called'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l skip-lld -d 'Do not run the lld stage, even if there is no design yet'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l skip-spec -d 'Do not run the spec stage, even if there is no spec yet'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l gate-before-pr -d 'Ask for approval before the pull request, whatever the configuration says'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l no-gate-before-pr -d 'Do not ask for approval before the pull request'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l update-base -d 'Merge the base branch into the issue branch before impl, in memory (a conflict changes nothing); while the branch holds only the design documents, impl starts from the base\'s current tip without it'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l allow-red-baseline -d 'Take failures the tests already have on the unchanged tree as known: impl then requires only that no new test fails (stages.impl.allow_red_baseline)'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l force -d 'Run on a closed or locked GitHub issue'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l keep-stale -d 'Keep stages whose inputs changed since they were made (an edited issue, a hand-edited design) as they are, instead of redoing them (orchestrator.on_stale = "keep")'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l no-input -d 'Never prompt; a gate stops the run (also when there is no terminal)'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -l json -d 'Machine-readable events, one JSON object per line, on stdout'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -s v -l verbose -d 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -s q -l quiet -d 'Say less: only errors, warnings and what a gate needs from you'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -s V -l version -d 'Print version'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -a "run" -d 'Run the pipeline for issues (the default command)'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -a "status" -d 'Show where issues stand, read from their branches'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -a "approve" -d 'Pass the gate an issue is waiting at'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -a "reject" -d 'Reject at the gate; the stage is revised with your feedback on the next run'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -a "clean" -d 'Remove an issue\'s worktree and local run state; with --branch, its branch too'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -a "action" -d 'In GitHub Actions: act on the event that started the job (a label, a command comment)'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -a "doctor" -d 'Check whether a run could start here, and say what to fix'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -a "init" -d 'Write a commented .orchestrate.toml for this machine; --github-action adds a workflow'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -a "eval" -d 'Replay this repository\'s history as tasks, judged by the tests each commit added'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -a "completions" -d 'Print the completion script for a shell (bash, zsh, fish, elvish, powershell)'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -a "install-docs" -d 'Install the manual pages and completion scripts where man and the shells find them'
complete -c git-orchestrate -n "__fish_git_orchestrate_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l issue -d 'The issue, as an option (same as the positional ISSUE)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l issue-file -d 'Read the issue from a Markdown file (its first `# ` line is the title) instead of GitHub' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l until -d 'Stop after this stage (triage, lld, spec, impl, pr); `--until spec`: design documents only' -r -f -a "triage\t''
lld\t''
spec\t''
impl\t''
pr\t''"
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l resume-from -d 'Take earlier stages as they are on the branch; redo STAGE and everything after it' -r -f -a "triage\t''
lld\t''
spec\t''
impl\t''
pr\t''"
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l skip -d 'Do not run STAGE (repeatable)' -r -f -a "triage\t''
lld\t''
spec\t''
impl\t''
pr\t''"
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l gate -d 'Turn on a gate for this run: after_lld, after_spec, before_pr (repeatable)' -r -f -a "after_lld\t''
after_spec\t''
before_pr\t''"
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l no-gate -d 'Turn off a gate for this run (repeatable)' -r -f -a "after_lld\t''
after_spec\t''
before_pr\t''"
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l base -d 'Base branch for a new issue branch and its pull request (default: the branch checked out now)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -s j -l jobs -d 'With several issues, run up to N at once (each in its own worktree); one table at the end says how each ended' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -s c -d 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l config -d 'Use this configuration file instead of the repository\'s .orchestrate.toml' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l dry-run -d 'Print the plan (each stage: run or skip and why, gates, models, branch, paths) and change nothing; no model is called'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l skip-lld -d 'Do not run the lld stage, even if there is no design yet'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l skip-spec -d 'Do not run the spec stage, even if there is no spec yet'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l gate-before-pr -d 'Ask for approval before the pull request, whatever the configuration says'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l no-gate-before-pr -d 'Do not ask for approval before the pull request'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l update-base -d 'Merge the base branch into the issue branch before impl, in memory (a conflict changes nothing); while the branch holds only the design documents, impl starts from the base\'s current tip without it'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l allow-red-baseline -d 'Take failures the tests already have on the unchanged tree as known: impl then requires only that no new test fails (stages.impl.allow_red_baseline)'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l force -d 'Run on a closed or locked GitHub issue'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l keep-stale -d 'Keep stages whose inputs changed since they were made (an edited issue, a hand-edited design) as they are, instead of redoing them (orchestrator.on_stale = "keep")'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l no-input -d 'Never prompt; a gate stops the run (also when there is no terminal)'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -l json -d 'Machine-readable events, one JSON object per line, on stdout'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -s v -l verbose -d 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -s q -l quiet -d 'Say less: only errors, warnings and what a gate needs from you'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand run" -s h -l help -d 'Print help'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand status" -s c -d 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand status" -l config -d 'Use this configuration file instead of the repository\'s .orchestrate.toml' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand status" -l json -d 'Print JSON instead of a table'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand status" -l refresh -d 'Read the issue from GitHub (one request per issue) to tell whether its brief is stale; without it, status reads only the branches, offline'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand status" -s v -l verbose -d 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand status" -s q -l quiet -d 'Say less: only errors, warnings and what a gate needs from you'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand status" -s h -l help -d 'Print help'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand approve" -l gate -d 'The gate to pass (after_lld, after_spec, before_pr); default: the one the issue waits at' -r -f -a "after_lld\t''
after_spec\t''
before_pr\t''"
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand approve" -s c -d 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand approve" -l config -d 'Use this configuration file instead of the repository\'s .orchestrate.toml' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand approve" -s v -l verbose -d 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand approve" -s q -l quiet -d 'Say less: only errors, warnings and what a gate needs from you'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand approve" -s h -l help -d 'Print help'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand reject" -s m -l message -d 'What should change: given to the drafter when the stage is revised' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand reject" -l gate -d 'The gate to reject at; default: the one the issue waits at' -r -f -a "after_lld\t''
after_spec\t''
before_pr\t''"
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand reject" -s c -d 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand reject" -l config -d 'Use this configuration file instead of the repository\'s .orchestrate.toml' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand reject" -s v -l verbose -d 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand reject" -s q -l quiet -d 'Say less: only errors, warnings and what a gate needs from you'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand reject" -s h -l help -d 'Print help'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand clean" -s c -d 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand clean" -l config -d 'Use this configuration file instead of the repository\'s .orchestrate.toml' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand clean" -l all -d 'Every issue that has a worktree or local state (with --branch, also every issue branch)'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand clean" -l branch -d 'Delete the issue\'s branch too; one whose commits no remote-tracking branch has needs --force. A branch with commits git orchestrate did not make (no Orchestrate-* trailer) is never deleted by --all, and needs --force when its issue is named'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand clean" -l force -d 'Also delete work saved from runs (recovered/), unpushed branches and branches with a person\'s commits with --branch, and a worktree whose changes cannot be saved'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand clean" -s v -l verbose -d 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand clean" -s q -l quiet -d 'Say less: only errors, warnings and what a gate needs from you'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand clean" -s h -l help -d 'Print help'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand action" -s c -d 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand action" -l config -d 'Use this configuration file instead of the repository\'s .orchestrate.toml' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand action" -s v -l verbose -d 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand action" -s q -l quiet -d 'Say less: only errors, warnings and what a gate needs from you'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand action" -s h -l help -d 'Print help'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand doctor" -l timeout -d 'The longest one network check may take (all of them together take at most 25s)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand doctor" -s c -d 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand doctor" -l config -d 'Use this configuration file instead of the repository\'s .orchestrate.toml' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand doctor" -l offline -d 'Send no request: look for keys, tokens and programs without trying them'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand doctor" -l json -d 'Print one JSON document instead of lines'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand doctor" -s v -l verbose -d 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand doctor" -s q -l quiet -d 'Say less: only errors, warnings and what a gate needs from you'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand init" -s c -d 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand init" -l config -d 'Use this configuration file instead of the repository\'s .orchestrate.toml' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand init" -l github-action -d 'Also write .github/workflows/orchestrate.yml: run on issues labelled `orchestrate` and on `/orchestrate` comments. A .orchestrate.toml already there is kept'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand init" -l force -d 'Replace files that already exist (with --github-action, only the workflow)'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand init" -s v -l verbose -d 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand init" -s q -l quiet -d 'Say less: only errors, warnings and what a gate needs from you'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand init" -s h -l help -d 'Print help'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -l issue-text -d 'Where a task\'s issue text comes from: the commit message, or the GitHub issue it names (Fixes #12)' -r -f -a "message\t''
github\t''"
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -l limit -d 'Run at most N valid tasks, the first ones of the range' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -l sample -d 'Run N valid tasks chosen at random (reproducibly, with --seed)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -l seed -d 'The seed of --sample\'s choice' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -l budget -d 'The most a task may cost, in USD (budget.max_usd_per_issue)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -s j -l jobs -d 'Run up to N tasks at once, each in its own scratch repository and worktree' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -l resume -d 'Go on with an eval run that was stopped; finished tasks are not run again' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -l clean -d 'Remove an eval run\'s refs (refs/orchestrate-eval/RUN-ID/) and scratch repositories; its reports stay' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -l compare -d 'Set two eval runs side by side: which tasks each solved, and what each cost' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -s c -d 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -l config -d 'Use this configuration file instead of the repository\'s .orchestrate.toml' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -l merges -d 'Take the range\'s first-parent merge commits (merged pull requests) instead of its commits'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -l json -d 'Machine-readable output: the tasks\' run events and the eval\'s own, one JSON object per line; the last line is the report'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -s v -l verbose -d 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -s q -l quiet -d 'Say less: only errors, warnings and what a gate needs from you'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand eval" -s h -l help -d 'Print help'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand completions" -s c -d 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand completions" -l config -d 'Use this configuration file instead of the repository\'s .orchestrate.toml' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand completions" -s v -l verbose -d 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand completions" -s q -l quiet -d 'Say less: only errors, warnings and what a gate needs from you'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand completions" -s h -l help -d 'Print help'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand install-docs" -l prefix -d 'Install below DIR/share (man/man1, bash-completion/completions, zsh/site-functions, fish/vendor_completions.d) instead of beside this program and in your own directories' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand install-docs" -s c -d 'Override a configuration key for this run; VALUE is read as TOML, else as a string (-c gates.after_lld=true, -c stages.lld.drafter=cmd:./draft.sh)' -r
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand install-docs" -l config -d 'Use this configuration file instead of the repository\'s .orchestrate.toml' -r -F
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand install-docs" -s v -l verbose -d 'Say more (diagnostics, every model call); GIT_ORCHESTRATE_LOG sets a tracing filter'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand install-docs" -s q -l quiet -d 'Say less: only errors, warnings and what a gate needs from you'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand install-docs" -s h -l help -d 'Print help'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand help; and not __fish_seen_subcommand_from run status approve reject clean action doctor init eval completions install-docs help" -f -a "run" -d 'Run the pipeline for issues (the default command)'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand help; and not __fish_seen_subcommand_from run status approve reject clean action doctor init eval completions install-docs help" -f -a "status" -d 'Show where issues stand, read from their branches'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand help; and not __fish_seen_subcommand_from run status approve reject clean action doctor init eval completions install-docs help" -f -a "approve" -d 'Pass the gate an issue is waiting at'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand help; and not __fish_seen_subcommand_from run status approve reject clean action doctor init eval completions install-docs help" -f -a "reject" -d 'Reject at the gate; the stage is revised with your feedback on the next run'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand help; and not __fish_seen_subcommand_from run status approve reject clean action doctor init eval completions install-docs help" -f -a "clean" -d 'Remove an issue\'s worktree and local run state; with --branch, its branch too'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand help; and not __fish_seen_subcommand_from run status approve reject clean action doctor init eval completions install-docs help" -f -a "action" -d 'In GitHub Actions: act on the event that started the job (a label, a command comment)'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand help; and not __fish_seen_subcommand_from run status approve reject clean action doctor init eval completions install-docs help" -f -a "doctor" -d 'Check whether a run could start here, and say what to fix'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand help; and not __fish_seen_subcommand_from run status approve reject clean action doctor init eval completions install-docs help" -f -a "init" -d 'Write a commented .orchestrate.toml for this machine; --github-action adds a workflow'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand help; and not __fish_seen_subcommand_from run status approve reject clean action doctor init eval completions install-docs help" -f -a "eval" -d 'Replay this repository\'s history as tasks, judged by the tests each commit added'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand help; and not __fish_seen_subcommand_from run status approve reject clean action doctor init eval completions install-docs help" -f -a "completions" -d 'Print the completion script for a shell (bash, zsh, fish, elvish, powershell)'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand help; and not __fish_seen_subcommand_from run status approve reject clean action doctor init eval completions install-docs help" -f -a "install-docs" -d 'Install the manual pages and completion scripts where man and the shells find them'
complete -c git-orchestrate -n "__fish_git_orchestrate_using_subcommand help; and not __fish_seen_subcommand_from run status approve reject clean action doctor init eval completions install-docs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
