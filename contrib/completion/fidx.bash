# bash completion for fidx and fidx-<command>. The options come from the
# commands' own --help, so they never go stale.

_fidx_commands="build search merge info export"

_fidx_options() {
	"$1" --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

_fidx() {
	local cur=${COMP_WORDS[COMP_CWORD]} prog=${COMP_WORDS[0]}
	if [[ ${prog##*/} == fidx ]]; then
		if ((COMP_CWORD == 1)); then
			COMPREPLY=($(compgen -W "$_fidx_commands help --help --version" -- "$cur"))
			return
		fi
		prog=fidx-${COMP_WORDS[1]}
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_fidx_options "$prog")" -- "$cur"))
	else
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

complete -F _fidx fidx fidx-build fidx-search fidx-merge fidx-info fidx-export
