#!/bin/sh
# The fidx front, and what every binary shares: --help, --version, exit codes.
. "$FIDX_SRC/tests/cli/lib.sh"

test_expect_success 'fidx --help lists the commands' '
	fidx --help >out &&
	test_grep "^usage: fidx" out &&
	test_grep "^  build " out && test_grep "^  search " out &&
	test_grep "^  merge " out && test_grep "^  info " out
'

test_expect_success 'fidx without a command is a usage error' '
	test_expect_code 2 fidx 2>err &&
	test_grep "^usage: fidx" err
'

test_expect_success 'fidx --version names FAISS and the CPU level' '
	fidx --version >out &&
	test_grep "^fidx [0-9]+\.[0-9]+\.[0-9]+$" out &&
	test_grep "^faiss .*C API" out &&
	test_grep "^cpu: " out
'

test_expect_success 'an unknown command is reported, with a suggestion' '
	test_expect_code 2 fidx serch x 2>err &&
	test_grep "'"'"'serch'"'"' is not a fidx command" err &&
	test_grep "^	search$" err
'

# A folder of PATH that may not be searched makes execvp fail with EACCES,
# but for root, who may search any: the command is still unknown. Run as
# nobody when the tests run as root.
drop=
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	drop="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
if [ "$(id -u)" != 0 ] || { [ -n "$drop" ] && $drop "$FIDX_BIN/fidx" --version >/dev/null 2>&1; }; then
test_expect_success 'an unknown command is reported past a folder of PATH that may not be searched' '
	mkdir locked && chmod 0 locked &&
	test_expect_code 2 $drop env PATH="$scratch/locked:$FIDX_BIN:/usr/bin:/bin" fidx serch x 2>err &&
	test_grep "'"'"'serch'"'"' is not a fidx command" err
'
fi

test_expect_success 'a command name with a slash is refused' '
	test_expect_code 2 fidx ../bin/sh 2>err &&
	test_grep "is not a command name" err
'

test_expect_success 'fidx <command> runs fidx-<command>' '
	fidx build --help >a &&
	fidx-build --help >b &&
	test_cmp a b &&
	fidx help merge >c &&
	fidx-merge --help >d &&
	test_cmp c d
'

test_expect_success 'every binary has --help and --version' '
	for c in build search merge info; do
		fidx-$c --help >out &&
		test_grep "^usage: fidx $c" out &&
		test_grep "^Exit status: 0 success" out &&
		fidx-$c --version >out &&
		test_grep "^fidx-$c [0-9]" out || return 1
	done
'

test_expect_success 'unknown options are usage errors' '
	test_expect_code 2 fidx-build --nope 2>err &&
	test_grep "^fidx-build: error: unknown option --nope \(see .fidx-build --help.\)$" err &&
	test_expect_code 2 fidx-search -k 2>err &&
	test_grep "needs a value" err &&
	test_expect_code 2 fidx-search -k 0 x.fidx q 2>err &&
	test_grep "expects a whole number" err
'

test_expect_success 'a write error on standard output is reported' '
	test_expect_code 4 fidx-search --help >/dev/full 2>err &&
	test_grep "cannot write the output" err
'

test_expect_success 'fidx finds its commands on PATH when not next to it' '
	mkdir -p alone &&
	cp "$FIDX_BIN/fidx" alone/ &&
	PATH="$FIDX_BIN:/usr/bin:/bin" alone/fidx info --help >out &&
	test_grep "^usage: fidx info" out
'

test_done
