
_clap_complete_git_orchestrate() {
    local IFS=$'\013'
    local _CLAP_COMPLETE_INDEX=${COMP_CWORD}
    local _CLAP_COMPLETE_COMP_TYPE=${COMP_TYPE}
    if compopt +o nospace 2> /dev/null; then
        local _CLAP_COMPLETE_SPACE=false
    else
        local _CLAP_COMPLETE_SPACE=true
    fi
    local words=("${COMP_WORDS[@]}")
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        words[COMP_CWORD]="$2"
    fi
    COMPREPLY=( $( \
        _CLAP_IFS="$IFS" \
        _CLAP_COMPLETE_INDEX="$_CLAP_COMPLETE_INDEX" \
        _CLAP_COMPLETE_COMP_TYPE="$_CLAP_COMPLETE_COMP_TYPE" \
        _CLAP_COMPLETE_SPACE="$_CLAP_COMPLETE_SPACE" \
        GIT_ORCHESTRATE_COMPLETE="bash" \
        "git-orchestrate" -- "${words[@]}" \
    ) )
    if [[ $? != 0 ]]; then
        unset COMPREPLY
    elif [[ $_CLAP_COMPLETE_SPACE == false ]] && [[ "${COMPREPLY-}" =~ [=/:]$ ]]; then
        compopt -o nospace
    fi
}
if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -o nospace -o bashdefault -o nosort -F _clap_complete_git_orchestrate git-orchestrate
else
    complete -o nospace -o bashdefault -F _clap_complete_git_orchestrate git-orchestrate
fi


# `git orchestrate <TAB>`: git's completion calls `_git_orchestrate`. Complete the words
# after `orchestrate` as if `git-orchestrate` had been typed.
_git_orchestrate() {
    local i
    for (( i = 1; i < COMP_CWORD; i++ )); do
        [[ ${COMP_WORDS[i]} == orchestrate ]] && break
    done
    (( i < COMP_CWORD )) || return 0
    local words_after=(git-orchestrate "${COMP_WORDS[@]:i+1}")
    local cword_after=$(( COMP_CWORD - i ))
    local COMP_WORDS=("${words_after[@]}")
    local COMP_CWORD=$cword_after
    _clap_complete_git_orchestrate git-orchestrate "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
}
