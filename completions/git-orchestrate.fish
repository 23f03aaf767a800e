complete --keep-order --exclusive --command git-orchestrate --arguments "(GIT_ORCHESTRATE_COMPLETE=fish git-orchestrate -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"

# `git orchestrate <TAB>` through fish's own git completion (fish 3.6.0 leaves this out).
complete --command git --no-files --condition '__fish_git_needs_command' --arguments orchestrate --description 'Take an issue to a pull request'
complete --command git --no-files --condition '__fish_git_using_command orchestrate' --arguments '(__fish_git_complete_custom_command orchestrate)'
