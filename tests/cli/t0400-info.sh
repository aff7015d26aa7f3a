#!/bin/sh
# fidx info, and damaged index files: every byte flip and truncation is
# reported with exit status 5, never a crash.
. "$FIDX_SRC/tests/cli/lib.sh"

test_expect_success 'info shows the metadata and checks the checksums' '
	write_faqs faqs.txt &&
	fidx build -q -o f.fidx --texts faqs.txt &&
	fidx info f.fidx >out &&
	test_grep "^f.fidx$" out &&
	test_grep "format: +fidx version 3" out &&
	test_grep "count: +13" out &&
	test_grep "texts: +yes" out &&
	test_grep "faqs.txt  [0-9]+ bytes, 13 rows, sha256 [0-9a-f]{64}" out &&
	test_grep "vectors .*stored in" out &&
	test_grep "checksums: +all good" out &&
	sum=$(sha256sum faqs.txt | cut -d" " -f1) &&
	test_grep "faqs.txt  [0-9]+ bytes, 13 rows, sha256 $sum" out
'

# flip_every_byte INDEX ARGS...: each byte of INDEX changed in turn, in a
# copy x.fidx: fidx info checks every byte, so it exits 5; fidx search ARGS
# x.fidx checks every byte its answer depends on, so it exits 5 or prints
# the answer of the undamaged file (a flip in bytes it does not read
# changes nothing).
flip_every_byte() {
	_index=$1
	shift
	fidx search "$@" "$_index" >want &&
	size=$(wc -c <"$_index") &&
	i=0 &&
	while [ $i -lt $size ]; do
		cp "$_index" x.fidx &&
		printf "\377" | dd of=x.fidx bs=1 seek=$i conv=notrunc 2>/dev/null &&
		if cmp -s "$_index" x.fidx; then
			printf "\000" | dd of=x.fidx bs=1 seek=$i conv=notrunc 2>/dev/null
		fi &&
		test_expect_code 5 fidx info -q x.fidx 2>/dev/null &&
		search_same_or_5 want "$@" x.fidx || { echo "byte $i"; return 1; }
		i=$((i + 1))
	done
}

test_expect_success 'every byte flipped is reported, never a crash' '
	printf "0,1,2\n1,0,0\n0,1,0\n" >s.csv &&
	fidx build -q -o s.fidx --embedder hash --dim 3 s.csv &&
	flip_every_byte s.fidx --tsv --id 0
'

# The same over a file of every section, each in several blocks (two rows a
# block, 16 bytes of ids or texts a block): vectors, codes, ids, texts,
# metadata, their block directories.
test_expect_success 'a flipped byte in any section of a file of many blocks' '
	cat >m.csv <<-EOF &&
	id,text,a,b,c,d
	u1,one,1,0,0,0.5
	u2,two,0,1,0,0
	u3,three,0.25,0.5,1,0
	u4,four,1,1,1,1
	u5,five,-1,0,2,0
	u6,six,0.5,-0.25,0,3
	u7,seven,3,1,4,1
	EOF
	FIDX_TEST_BLOCK_ROWS=2 FIDX_TEST_RECORD_BYTES=16 \
		fidx build -q -o m.fidx --id-column id --text-column text m.csv &&
	fidx info m.fidx >info &&
	test_grep "vectors .* 4 blocks" info &&
	test_grep "codes .* 4 blocks" info &&
	test_grep "ids .* 3 blocks" info &&
	test_grep "texts .* 4 blocks" info &&
	flip_every_byte m.fidx --tsv -k 3 --id u3
'

test_expect_success 'every truncation is reported' '
	size=$(wc -c <s.fidx) &&
	i=0 &&
	while [ $i -lt $size ]; do
		head -c $i s.fidx >x.fidx &&
		test_expect_code 5 fidx info -q x.fidx 2>/dev/null || { echo "length $i"; return 1; }
		i=$((i + 1))
	done
'

test_expect_success 'foreign and missing files' '
	echo hello >t.fidx &&
	test_expect_code 5 fidx info t.fidx 2>err &&
	test_grep "t.fidx: not a fidx index" err &&
	test_expect_code 4 fidx info nosuch.fidx 2>err &&
	test_grep "nosuch.fidx: No such file or directory" err &&
	test_expect_code 5 fidx info f.fidx t.fidx >/dev/null 2>&1
'

# faq-2's vector is (1,0,0,0): its score against itself is exactly 1.0 in
# any order of additions, on every CPU and either search path.
test_expect_success 'an index in format version 1 stays readable' '
	v1="$FIDX_SRC/tests/data/format-v1.fidx" &&
	fidx info "$v1" >out &&
	test_grep "format: +fidx version 1" out &&
	test_grep "checksums: +all good" out &&
	fidx search --tsv -k 1 --id faq-2 "$v1" >hit &&
	printf "1\t1\tfaq-2\t1.0\tSecond, with comma\n" >want &&
	test_cmp want hit &&
	fidx merge -q -o v3.fidx "$v1" &&
	fidx info v3.fidx >out &&
	test_grep "format: +fidx version 3" out &&
	fidx search --tsv -k 3 --id faq-3 v3.fidx >a &&
	fidx search --tsv -k 3 --id faq-3 "$v1" >b &&
	test_cmp a b
'

test_done
