/* fidx search: top-k cosine search over one index or several. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "meta.h"
#include "number.h"
#include "plan.h"
#include "reader.h"
#include "results.h"
#include "search.h"
#include "texts.h"
#include "uri.h"
#include "vec.h"

static const char usage[] =
	"usage: fidx search [<options>] <index> [<query>...]\n"
	"   or: fidx search [<options>] -i <index> [-i <index>...] [<query>...]\n"
	"\n"
	"Finds the k items most similar to each query by cosine similarity (exact).\n"
	"Queries are texts, embedded the way the index was built (see fidx build\n"
	"--embedder); with no query arguments, --vectors or --id, one query per line\n"
	"is read from standard input.\n"
	"\n"
	"  -k, --top-k <k>            hits per query (default 10); a k larger than the\n"
	"                             collection returns all of it\n"
	"      --json                 JSON shaped like sentence_transformers'\n"
	"                             util.semantic_search: per query, a list of\n"
	"                             {\"corpus_id\": id, \"score\": s}\n"
	"      --jsonl                one JSON object per hit: {\"query\": i (from 0),\n"
	"                             \"rank\", \"corpus_id\", \"score\", \"text\"}\n"
	"      --tsv                  tab-separated: query, rank, id, score, text\n"
	"      --fields <list>        the fields of --tsv and --jsonl, in order, from\n"
	"                             query, rank, index, id, score, text\n"
	"      --vectors <file>       query vectors from a file of any input format of fidx\n"
	"                             build (CSV, .npy, ...), - for standard input, or an\n"
	"                             hf://datasets/... file, folder or dataset, read through\n"
	"                             the Hugging Face cache as fidx build reads it\n"
	"      --format <name>        the --vectors format, when neither its first bytes\n"
	"                             nor its name tell:\n"
	"                             " CMD_FORMATS "\n"
	"      --header, --no-header  whether --vectors has a header line (default:\n"
	"                             guessed)\n"
	"      --id <id>              search with the stored vector of this item (\"more\n"
	"                             like this\"); may be repeated\n"
	"      --min-score <s>        drop hits scoring below s\n"
	"  -i, --index <index>        search this index; repeat to search several as one\n"
	"                             collection (then every argument is a query)\n"
	"      --keep-apart           with several indexes: let them use the same ids and\n"
	"                             say which index each hit comes from\n"
	CMD_COMMON_HELP
	"\n"
	"Text queries to an index built with --embedder api go to the same service,\n"
	"model and protocol; these options of fidx build apply (--api-url and\n"
	"--api-format, if given, override the recorded ones):\n"
	"      --token-file, --timeout, --retries, --cache, --no-cache\n"
	"\n"
	"Hits are ordered by score, then by id. Scores are cosine similarities in\n"
	"[-1, 1]; the table shows 4 decimals, --json and --tsv the exact float.\n"
	"A few queries scan the index's 8-bit copy of the rows first, then score\n"
	"exactly only the rows that can still make the top k: the same answers as\n"
	"scoring every row (-v says what was read).\n"
	"\n" FIDX_EXIT_CODES_HELP;

enum { OPT_JSON = 256, OPT_JSONL, OPT_FIELDS, OPT_TSV, OPT_VECTORS, OPT_FORMAT, OPT_HEADER, OPT_NO_HEADER, OPT_ID,
       OPT_MIN_SCORE, OPT_KEEP_APART };

static const struct option options[] = {
	{"top-k", required_argument, NULL, 'k'},
	{"json", no_argument, NULL, OPT_JSON},
	{"jsonl", no_argument, NULL, OPT_JSONL},
	{"fields", required_argument, NULL, OPT_FIELDS},
	{"tsv", no_argument, NULL, OPT_TSV},
	{"vectors", required_argument, NULL, OPT_VECTORS},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"header", no_argument, NULL, OPT_HEADER},
	{"no-header", no_argument, NULL, OPT_NO_HEADER},
	{"id", required_argument, NULL, OPT_ID},
	{"min-score", required_argument, NULL, OPT_MIN_SCORE},
	{"index", required_argument, NULL, 'i'},
	{"keep-apart", no_argument, NULL, OPT_KEEP_APART},
	CMD_API_OPTIONS,
	CMD_COMMON_OPTIONS,
	{NULL, 0, NULL, 0},
};


/* The queries: a label each (for the table) and their vectors. */
struct queries {
	char **label;
	float *vec;
	size_t n, cap, dim;
};

static int add_query(struct queries *q, const char *label, size_t len, struct fidx_err *err)
{
	if (q->n == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 16;
		char **nl = realloc(q->label, ncap * sizeof *nl);
		float *nv;
		if (!nl)
			return fidx_err_nomem(err);
		q->label = nl;
		nv = realloc(q->vec, ncap * q->dim * sizeof *nv);
		if (!nv)
			return fidx_err_nomem(err);
		q->vec = nv;
		q->cap = ncap;
	}
	if (!(q->label[q->n] = strndup(label, len)))
		return fidx_err_nomem(err);
	q->n++;
	return 0;
}

static void free_queries(struct queries *q)
{
	size_t i;
	for (i = 0; i < q->n; i++)
		free(q->label[i]);
	free(q->label);
	free(q->vec);
}

/* Text queries, embedded the way the collection was built. */
static struct fidx_embed_config api_opts;

static int add_texts(struct queries *q, struct fidx_collection *c, char **texts, size_t n,
                     struct fidx_err *err)
{
	size_t i, first = q->n, *lens;
	int rc = 0;

	if (!n)
		return 0;
	if (!(lens = malloc(n * sizeof *lens)))
		return fidx_err_nomem(err);
	for (i = 0; rc == 0 && i < n; i++) {
		lens[i] = strlen(texts[i]);
		rc = add_query(q, texts[i], lens[i], err);
	}
	if (rc == 0) {
		rc = fidx_collection_embed(c, &api_opts, (const char *const *)texts, lens, n,
		                           q->vec + first * q->dim, err);
		if (rc == FIDX_EINPUT && err->detail == FIDX_DETAIL_NO_WORDS)
			fidx_err_set(err, rc, "a query has no words to embed (it is empty or only punctuation)");
	}
	free(lens);
	return rc;
}

static int read_stdin_queries(struct queries *q, struct fidx_collection *c, struct fidx_err *err)
{
	struct fidx_texts *t;
	char **texts = NULL;
	size_t n = 0, cap = 0, i;
	const char *p;
	size_t len;
	uint64_t line;
	int rc;

	if ((rc = fidx_texts_open(&t, "-", NULL, err)) != 0)
		return rc;
	while ((rc = fidx_texts_next(t, &p, &len, &line, err)) == 1) {
		if (!len)
			continue;
		if (n == cap) {
			char **nt = realloc(texts, (cap = cap ? cap * 2 : 16) * sizeof *nt);
			if (!nt) {
				rc = fidx_err_nomem(err);
				break;
			}
			texts = nt;
		}
		if (!(texts[n] = strndup(p, len))) {
			rc = fidx_err_nomem(err);
			break;
		}
		n++;
	}
	fidx_texts_close(t);
	if (rc == 0)
		rc = add_texts(q, c, texts, n, err);
	for (i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	return rc;
}

/* The queries of one file, named name in messages (NULL: its path). */
static int read_vector_file(struct queries *q, const char *path, const char *name, const struct fidx_reader_opts *to,
                            struct fidx_err *err)
{
	struct fidx_reader *t;
	struct fidx_rows rows;
	const char *unit;
	int rc;

	if ((rc = fidx_reader_open(&t, path, to, err)) != 0)
		return rc;
	if (fidx_reader_note(t))
		cmd_reader_note(NULL, fidx_reader_note(t));
	if (!name)
		name = fidx_source_name(fidx_reader_source(t));
	unit = fidx_reader_format(t)->flags & FIDX_FORMAT_LINES ? "line" : "row";
	rc = 0;
	while (rc == 0 && (rc = fidx_reader_next(t, &rows, err)) == 1) {
		size_t i;
		for (i = 0, rc = 0; i < rows.n && rc == 0; i++) {
			char label[64];
			int len;
			if (rows.dim != q->dim) {
				rc = fidx_err_set(err, FIDX_EINPUT, "%s:%llu: the vector has %zu dimensions, the index has %zu",
				                  name, (unsigned long long)rows.where[i], rows.dim, q->dim);
				break;
			}
			len = snprintf(label, sizeof label, "vector at %s %llu", unit, (unsigned long long)rows.where[i]);
			if ((rc = add_query(q, label, (size_t)len, err)) == 0 &&
			    fidx_vec_normalize(rows.vec + i * rows.dim, q->vec + (q->n - 1) * q->dim, q->dim))
				rc = fidx_err_set(err, FIDX_EINPUT, "%s:%llu: the vector is all zeros and cannot be normalized",
				                  name, (unsigned long long)rows.where[i]);
		}
	}
	fidx_reader_close(t);
	return rc;
}

/* --vectors: a file, or an hf:// dataset's files (through the Hugging Face
 * cache, as fidx build reads them). */
static int read_vectors(struct queries *q, const char *arg, const struct fidx_reader_opts *to, struct fidx_err *err)
{
	struct fidx_plan_opts po;
	struct fidx_plan plan;
	size_t i;
	int rc;

	if (!fidx_hf_is_uri(arg))
		return read_vector_file(q, arg, NULL, to, err);
	memset(&po, 0, sizeof po);
	po.inputs = &arg;
	po.ninputs = 1;
	po.read = to;
	cmd_hub_hooks(&po.hub);
	if ((rc = fidx_plan_make(&po, &plan, err)) != 0)
		return rc;
	cmd_progress_done();
	for (i = 0; rc == 0 && i < plan.n; i++) {
		struct fidx_reader_opts fo = *to;
		fo.format = plan.files[i].format;
		rc = read_vector_file(q, plan.files[i].path, plan.files[i].name, &fo, err);
	}
	fidx_plan_free(&plan);
	return rc;
}

static int add_id_query(struct queries *q, struct fidx_collection *c, const char *id,
                        struct fidx_err *err)
{
	char label[128], quoted[96];
	size_t index;
	uint64_t row;
	int rc = fidx_collection_find(c, id, strlen(id), &index, &row, err);
	if (rc < 0)
		return rc;
	fidx_err_quote(quoted, sizeof quoted, id, strlen(id));
	if (rc == 0)
		return fidx_err_set(err, FIDX_EINPUT, "no item has the id \"%s\"", quoted);
	snprintf(label, sizeof label, "id %s", quoted);
	if ((rc = add_query(q, label, strlen(label), err)) != 0)
		return rc;
	return fidx_index_row(fidx_collection_index(c, index), row, q->vec + (q->n - 1) * q->dim, err);
}

/* What the search read, with -v: the first pass over the codes and the
 * rows scored again from their float32 values. */
static void verbose_stats(const struct fidx_index *ix)
{
	const struct fidx_search_stats *st = fidx_index_stats(ix);
	if (!st->rows_scanned)
		return;
	cmd_verbose("%s: codes of %llu rows scanned (%.1f MB), %llu rows in %llu blocks scored again "
	            "(%.2f MB of the file)",
	            fidx_index_path(ix), (unsigned long long)st->rows_scanned, st->code_bytes / 1e6,
	            (unsigned long long)st->rows_rescored, (unsigned long long)st->blocks_rescored,
	            st->vector_bytes / 1e6);
}

int main(int argc, char **argv)
{
	struct fidx_reader_opts to = {NULL, NULL, NULL, FIDX_HEADER_AUTO, NULL, NULL};
	struct fidx_err err = {0};
	struct fidx_collection *coll = NULL;
	struct queries q = {0};
	struct fidx_result *res = NULL;
	size_t k = 10, *counts = NULL, nidx = 0, nids = 0, i;
	char **paths = NULL, **ids = NULL, **texts;
	const char *vectors = NULL;
	float min_score = -2.0f;
	struct fidx_results_style style = {0};
	int keep_apart = 0, c, rc = 0, ntexts, status = FIDX_EXIT_OK;
	uint64_t total = 0;

	cmd_init("fidx-search");
	paths = calloc((size_t)argc, sizeof *paths);
	ids = calloc((size_t)argc, sizeof *ids);
	if (!paths || !ids) {
		fidx_err_nomem(&err);
		return cmd_finish(cmd_fail(&err));
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:i:qvh", options, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (cmd_parse_size("-k", optarg, 1, (size_t)1 << 40, &k)) {
				status = FIDX_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_JSON: style.format = FIDX_RESULTS_JSON; break;
		case OPT_JSONL: style.format = FIDX_RESULTS_JSONL; break;
		case OPT_FIELDS:
			if (fidx_results_fields(&style, optarg, &err)) {
				status = cmd_usage_error("--fields: %s", err.msg);
				goto out;
			}
			break;
		case OPT_TSV: style.format = FIDX_RESULTS_TSV; break;
		case OPT_VECTORS: vectors = optarg; break;
		case OPT_FORMAT:
			if (cmd_parse_format(optarg, &to.format)) {
				status = FIDX_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_HEADER: to.header = FIDX_HEADER_YES; break;
		case OPT_NO_HEADER: to.header = FIDX_HEADER_NO; break;
		case OPT_ID: ids[nids++] = optarg; break;
		case OPT_MIN_SCORE:
			if (cmd_parse_float("--min-score", optarg, &min_score)) {
				status = FIDX_EXIT_USAGE;
				goto out;
			}
			break;
		case 'i': paths[nidx++] = optarg; break;
		case OPT_KEEP_APART: keep_apart = 1; break;
		default:
			if ((rc = cmd_api_option(c, &api_opts)) == -2)
				rc = cmd_common_option(c, usage, argv);
			if (rc != CMD_CONTINUE) {
				status = rc;
				goto out;
			}
			rc = 0;
		}
	}
	if (!nidx) {
		if (optind == argc) {
			status = cmd_usage_error("no index: give <index> or -i <index>");
			goto out;
		}
		paths[nidx++] = argv[optind++];
	}
	if (keep_apart && nidx < 2)
		cmd_warn("--keep-apart has no effect with one index");
	if (style.nfields && style.format != FIDX_RESULTS_TSV && style.format != FIDX_RESULTS_JSONL) {
		status = cmd_usage_error("--fields goes with --tsv or --jsonl");
		goto out;
	}
	style.keep_apart = keep_apart && nidx > 1;
	style.index_names = (const char *const *)paths;
	texts = argv + optind;
	ntexts = argc - optind;
	cmd_embed_hooks(&api_opts);

	if ((rc = fidx_collection_open(&coll, (const char *const *)paths, nidx, keep_apart, &err)) != 0)
		goto fail;
	q.dim = fidx_collection_dim(coll);
	if ((rc = add_texts(&q, coll, texts, (size_t)ntexts, &err)) != 0)
		goto fail;
	if (vectors && (rc = read_vectors(&q, vectors, &to, &err)) != 0)
		goto fail;
	for (i = 0; i < nids; i++)
		if ((rc = add_id_query(&q, coll, ids[i], &err)) != 0)
			goto fail;
	if (!ntexts && !vectors && !nids && (rc = read_stdin_queries(&q, coll, &err)) != 0)
		goto fail;

	for (i = 0; i < nidx; i++)
		total += fidx_index_count(fidx_collection_index(coll, i));
	if (k > total)
		k = (size_t)total;
	if (q.n && k) {
		res = malloc(q.n * k * sizeof *res);
		counts = malloc(q.n * sizeof *counts);
		if (!res || !counts) {
			rc = fidx_err_nomem(&err);
			goto fail;
		}
		if ((rc = fidx_collection_search(coll, q.vec, q.n, k, min_score, res, counts, &err)) != 0)
			goto fail;
	} else if (q.n) {
		counts = calloc(q.n, sizeof *counts);
		if (!counts) {
			rc = fidx_err_nomem(&err);
			goto fail;
		}
	}
	cmd_verbose("%zu quer%s, %llu items in %zu index%s", q.n, q.n == 1 ? "y" : "ies",
	            (unsigned long long)total, nidx, nidx == 1 ? "" : "es");
	for (i = 0; i < nidx; i++)
		verbose_stats(fidx_collection_index(coll, i));
	fidx_results_write(stdout, &style, coll, q.label, q.n, res, counts, k);
fail:
	if (rc)
		status = cmd_fail(&err);
out:
	free(res);
	free(counts);
	free_queries(&q);
	fidx_collection_free(coll);
	free(paths);
	free(ids);
	return cmd_finish(status);
}
