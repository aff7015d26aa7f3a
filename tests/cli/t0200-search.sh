#!/bin/sh
# fidx search: outputs, query kinds, options, several indexes, errors.
. "$FIDX_SRC/tests/cli/lib.sh"
ds="$FIDX_SRC/datasets/medicare-faqs"

test_expect_success 'the Medicare index builds from the dataset folder' '
	fidx build -q -o faqs.fidx --embedder hash --texts "$ds/faqs.csv" "$ds" &&
	fidx info faqs.fidx >info &&
	test_grep "count: +13$" info
'

test_expect_success 'a FAQ found by its own text scores 1 and comes first' '
	fidx search -k 3 faqs.fidx "What is TRICARE?" >out &&
	sed -n 3p out >first &&
	test_grep "^   1  11  1\.0000  What is TRICARE\?$" first
'

test_expect_success 'the table shows the query, then rank, id, score and text' '
	fidx search -k 5 faqs.fidx "How can Medicare help me?" >out &&
	test "$(wc -l <out)" = 7 &&
	head -n 2 out >top &&
	printf "query: How can Medicare help me?\nrank  id   score  text\n" >want &&
	test_cmp want top &&
	sed -n 3p out >first &&
	test_grep "^   1  8   0\.[0-9]{4}  How can I get help with my Medicare Part A and Part B premiums\?$" first
'

# Independent check: numpy brute force and faiss.IndexFlatIP over the
# dataset CSV (crosscheck.py: scores within the float32 rounding bound, ids
# up to ties).
test_expect_success '--json has the semantic_search shape and matches brute force' '
	fidx search --json -k 5 --id 0 --id 3 --id 8 --id 12 faqs.fidx >got.json &&
	sed -n "1p;2p;5p;10p;14p" "$ds/embeddings.csv" >q.csv &&
	"$PYTHON" "$FIDX_SRC/tests/cli/crosscheck.py" check "$ds/embeddings.csv" q.csv 5 got.json >/dev/null &&
	"$PYTHON" - got.json <<-\PY
	import json, sys
	got = json.load(open(sys.argv[1]))
	assert isinstance(got, list) and len(got) == 4 and all(len(hits) == 5 for hits in got), got
	for hits, row in zip(got, [0, 3, 8, 12]):
	    for hit in hits:
	        assert set(hit) == {"corpus_id", "score"}, hit
	        assert isinstance(hit["corpus_id"], int)
	    assert hits[0]["corpus_id"] == row, hits
	PY
'

test_expect_success 'k larger than the collection returns all of it; --min-score drops hits' '
	fidx search --json -k 100 faqs.fidx "Medicare" >all.json &&
	"$PYTHON" -c "import json,sys; r=json.load(open(\"all.json\")); assert len(r[0]) == 13, len(r[0])" &&
	fidx search --json -k 100 --min-score 0.3 faqs.fidx "Medicare Part B" >some.json &&
	"$PYTHON" -c "import json; r=json.load(open(\"some.json\"))[0]; assert 0 < len(r) < 13 and all(h[\"score\"] >= 0.3 for h in r), r"
'

test_expect_success 'queries from standard input, one per line' '
	printf "What is TRICARE?\n\nHow do I sign up for Medicare?\n" | fidx search --tsv -k 1 faqs.fidx >out &&
	test "$(wc -l <out)" = 2 &&
	cut -f 1-3 out >got &&
	printf "1\t1\t11\n2\t1\t3\n" >want &&
	test_cmp want got
'

test_expect_success 'query vectors from a file' '
	sed -n 1p "$ds/embeddings.csv" >q.csv &&
	sed -n 11p "$ds/embeddings.csv" >>q.csv &&
	fidx search --tsv -k 1 --vectors q.csv faqs.fidx >out &&
	cut -f 3 out >got && echo 9 >want && test_cmp want got &&
	printf "0,1\n1,0\n" >wrong.csv &&
	test_expect_code 3 fidx search --vectors wrong.csv faqs.fidx 2>err &&
	test_grep "wrong.csv:2: the vector has 2 dimensions, the index has 384" err
'

test_expect_success 'an unknown --id is an error' '
	test_expect_code 3 fidx search --id 13 faqs.fidx 2>err &&
	test_grep "no item has the id \"13\"" err
'

test_expect_success 'text queries need an index that records its embedder' '
	fidx build -q -o noemb.fidx "$ds/embeddings.csv" &&
	test_expect_code 3 fidx search noemb.fidx "hello" 2>err &&
	test_grep "records no embedder" err &&
	fidx search --id 2 -k 1 noemb.fidx >out
'

test_expect_success 'several indexes search as one collection, like their merge' '
	head -n 8 "$ds/embeddings.csv" >a.csv &&
	{ head -n 1 "$ds/embeddings.csv"; tail -n +9 "$ds/embeddings.csv"; } >b.csv &&
	fidx build -q -o a.fidx --embedder hash a.csv &&
	fidx build -q -o b.fidx --embedder hash b.csv &&
	fidx build -q -o ab.fidx --embedder hash "$ds/embeddings.csv" &&
	for q in "How can Medicare help me?" "premiums" "sign up for Part B"; do
		fidx search --json -k 6 ab.fidx "$q" >want &&
		fidx search --json -k 6 -i a.fidx -i b.fidx "$q" >got &&
		test_same_hits 384 want got || return 1
	done
'

test_expect_success 'colliding ids across indexes are an error unless kept apart' '
	printf "id,0,1\nx,1,0\ny,0,1\n" >i1.csv &&
	printf "id,0,1\ny,1,1\nz,1,0\n" >i2.csv &&
	fidx build -q -o i1.fidx --id-column id i1.csv &&
	fidx build -q -o i2.fidx --id-column id i2.csv &&
	printf "1,0\n" >q2.csv &&
	test_expect_code 3 fidx search --vectors q2.csv -i i1.fidx -i i2.fidx 2>err &&
	test_grep "id \"y\" is in both i1.fidx and i2.fidx" err &&
	fidx search --json --keep-apart --vectors q2.csv -i i1.fidx -i i2.fidx >out &&
	test_grep "\"index\": 1" out
'

test_expect_success 'a damaged index is reported with exit status 5' '
	cp faqs.fidx bad.fidx &&
	printf "\377" | dd of=bad.fidx bs=1 seek=200 conv=notrunc 2>/dev/null &&
	test_expect_code 5 fidx search bad.fidx "Medicare" 2>err &&
	test_grep "bad.fidx: corrupt index" err &&
	echo "not an index" >text.fidx &&
	test_expect_code 5 fidx search text.fidx "x" 2>err &&
	test_grep "not a fidx index" err &&
	test_expect_code 4 fidx search nosuch.fidx "x" 2>err
'

test_done
