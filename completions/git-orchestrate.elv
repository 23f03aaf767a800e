
set edit:completion:arg-completer[git-orchestrate] = { |@words|
    var index = (count $words)
    set index = (- $index 1)

    put (env _CLAP_IFS="\n" _CLAP_COMPLETE_INDEX=(to-string $index) GIT_ORCHESTRATE_COMPLETE="elvish" git-orchestrate -- $@words) | to-lines
}

