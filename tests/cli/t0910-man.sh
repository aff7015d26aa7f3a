#!/bin/sh
# The manual pages say what --help says, render cleanly, and the bash
# completion offers the commands and their options.
. "$FIDX_SRC/tests/cli/lib.sh"

PROGRAMS="fidx fidx-build fidx-search fidx-merge fidx-info fidx-export"

# The long options a text names: --word, once each, sorted.
longopts() {
	grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' "$1" | sort -u
}

test_expect_success 'every option --help names is in the manual page; every option the page lists exists' '
	for p in $PROGRAMS; do
		"$FIDX_BIN/$p" --help >help.$p &&
		longopts help.$p >h.$p && longopts "$FIDX_SRC/docs/man/$p.1.md" >m.$p &&
		grep "^\* \`-" "$FIDX_SRC/docs/man/$p.1.md" >items.$p; longopts items.$p >i.$p &&
		comm -23 h.$p m.$p >undocumented.$p && test_cmp /dev/null undocumented.$p &&
		comm -23 i.$p h.$p >unknown.$p && test_cmp /dev/null unknown.$p ||
			{ echo "in $p" >&2; return 1; }
	done
'

test_expect_success 'the built pages render without warnings' '
	for p in $PROGRAMS; do
		test -s "$FIDX_BIN/man/$p.1" || return 1
		grep -q "^\\.TH \"$(echo $p | tr a-z A-Z)\" \"1\"" "$FIDX_BIN/man/$p.1" || return 1
		if command -v groff >/dev/null 2>&1; then
			groff -man -Tutf8 -ww -z "$FIDX_BIN/man/$p.1" 2>warn.$p && test_cmp /dev/null warn.$p || return 1
		fi
	done
'

if command -v bash >/dev/null 2>&1; then
test_expect_success 'bash completion: commands, then the command options' '
	bash -c "
		PATH=\"$FIDX_BIN:\$PATH\"
		. \"$FIDX_SRC/contrib/completion/fidx.bash\"
		COMP_WORDS=(fidx se); COMP_CWORD=1; _fidx; echo \"\${COMPREPLY[*]}\"
		COMP_WORDS=(fidx build --if); COMP_CWORD=2; _fidx; echo \"\${COMPREPLY[*]}\"
		COMP_WORDS=(fidx-export --n); COMP_CWORD=1; _fidx; echo \"\${COMPREPLY[*]}\"
	" >got &&
	printf "search\\n--if-changed\\n--no-progress --no-wait --npy\\n" >want &&
	test_cmp want got
'
fi

if command -v zsh >/dev/null 2>&1; then
test_expect_success 'zsh completion: parses, and compinit binds it to every program' '
	zsh -n "$FIDX_SRC/contrib/completion/_fidx" &&
	printf "%s\n" "fpath=($FIDX_SRC/contrib/completion \$fpath)" \
		"autoload -Uz compinit && compinit -u -d $scratch/zcompdump" \
		"for p in $PROGRAMS; do print -r -- \$p=\${_comps[\$p]}; done" >t.zsh &&
	zsh -f t.zsh >got &&
	for p in $PROGRAMS; do echo "$p=_fidx"; done >want &&
	test_cmp want got
'
fi

test_done
