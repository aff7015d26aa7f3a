/* fidx build: embeddings (or texts) in, one index file out. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "outfile.h"
#include "embed.h"
#include "file.h"
#include "ingest.h"
#include "plan.h"
#include "reader.h"

static const char usage[] =
	"usage: fidx build -o <index> [<options>] <input>...\n"
	"   or: fidx build -o <index> [<options>] --texts <file>\n"
	"   or: fidx build --list-inputs [--config <name>] [--split <name>] <input>...\n"
	"\n"
	"Builds an index for exact cosine search (FAISS IndexFlatIP over L2-normalized\n"
	"rows) and writes it atomically: the previous <index>, if any, is replaced only\n"
	"once the new one is complete and verified.\n"
	"\n"
	"The index holds the float32 rows compressed (stored as their differences from\n"
	"an 8-bit copy: about 0.65 of their size for embeddings) and that 8-bit copy,\n"
	"uncompressed (0.25), which search maps from the page cache and scans first,\n"
	"so that a query reads about a quarter of the bytes of the rows and decodes\n"
	"only the rows that can still make the top k: about 0.9 of the raw float32 in\n"
	"all, smaller than the raw rows and ready for search without loading them.\n"
	"The compressed rows go straight to the disk (O_DIRECT, where the file system\n"
	"allows) and are read back from it to be verified; the 8-bit copy stays in the\n"
	"page cache for the searches that follow.\n"
	"\n"
	"Inputs are CSV or TSV files, numpy .npy arrays, safetensors files, FAISS flat\n"
	"indexes, JSON Lines or Parquet files of embeddings (each optionally .gz or\n"
	".zst; the format is told by the first bytes, then the name), Hugging Face\n"
	"Hub-style dataset folders (refs/convert/parquet's included), datasets on the\n"
	"Hub, hf://datasets/<owner>/<name>[@<revision>][/<path>] (downloaded into the\n"
	"Hugging Face cache; HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, HF_HUB_OFFLINE), or\n"
	"- for standard input. Values may be float16, bfloat16 (converted exactly),\n"
	"float32, float64 or 8- and 16-bit integers (read as the numbers they are).\n"
	"CSV is read as pandas writes it:\n"
	"DataFrame(embeddings).to_csv(path, index=False), or without a header.\n"
	"Without inputs, the texts of --texts are embedded with --embedder.\n"
	"\n"
	"  -o, --output <index>       the index file to write\n"
	"      --texts <file>         texts to show in results, one per line, in the order\n"
	"                             of the rows; or a .csv/.tsv file (see --texts-column)\n"
	"      --texts-column <name>  the column of a CSV/TSV --texts file (default: text)\n"
	"      --id-column <name>     ids from this column (integers or strings; unique)\n"
	"      --text-column <name>   texts from this column\n"
	"      --embedding-column <name>\n"
	"                             the embedding is this one column, a list such as\n"
	"                             \"[0.1, -0.2, ...]\" (default: all other columns;\n"
	"                             Parquet: its only list column, else the others;\n"
	"                             safetensors: the tensor, default the only 2-D one)\n"
	"      --header, --no-header  whether the first line names the columns (default:\n"
	"                             guessed: a header has a non-number, or is 0,1,...)\n"
	"      --format <name>        the input format, when neither its first bytes nor\n"
	"                             its name tell:\n"
	"                             " CMD_FORMATS "\n"
	"      --config <name>        Hub folders and datasets: the config (default: the\n"
	"                             default one)\n"
	"      --split <name>         Hub folders and datasets: the split (default: train)\n"
	"      --embedder <name>      hash or api. With --texts only: the embedder\n"
	"                             (default: hash). With inputs: says how their\n"
	"                             vectors were made, so that search can embed text\n"
	"                             queries the same way\n"
	"      --model <name>         the embedder's model\n"
	"      --dim <n>              the embedding dimension (hash: default 384)\n"
	"      --save-embeddings <csv>\n"
	"                             with --texts only: also write the embeddings as a\n"
	"                             CSV in the layout of pandas' to_csv(index=False),\n"
	"                             header 0,1,...,D-1, ready to publish on the Hub\n"
	"      --update               update the output (-o) rather than replace it: rows\n"
	"                             whose id the inputs have again are replaced, new\n"
	"                             ids added, the other old rows kept (needs ids)\n"
	"      --delete-missing       with --update: drop the old rows the inputs do not\n"
	"                             have (the result is what a fresh build gives)\n"
	"      --if-changed           do nothing (exit 0) when the output exists and was\n"
	"                             built with the same options from the same files,\n"
	"                             unchanged (same size and time, or same SHA-256;\n"
	"                             an hf:// dataset: the same commit, one request)\n"
	"      --list-inputs          build nothing: print the data files the inputs\n"
	"                             resolve to (a Hub folder's, for --config and\n"
	"                             --split; a Hub dataset's as hf://...@<commit>/\n"
	"                             <path>, not downloaded), one per line, in the\n"
	"                             order a build reads them, each checked to exist\n"
	"                             and to be readable; with -v, also what a build\n"
	"                             reads in each (the columns or array, and their\n"
	"                             types) on stderr\n"
	CMD_OUT_HELP
	CMD_COMMON_HELP
	"\n"
	CMD_API_HELP
	"\n"
	"Embedders: hash is fidx's offline lexical embedder (feature hashing of words\n"
	"and character n-grams, model " FIDX_HASH_MODEL "). It needs no network, and it\n"
	"is not a neural model: it matches shared words, not meaning. api embeds texts\n"
	"with a sentence model behind an HTTP API, in batches, several requests at a\n"
	"time, retrying what can be retried; the token is never on the command line.\n"
	"\n" FIDX_EXIT_CODES_HELP;

enum {
	OPT_TEXTS = 256, OPT_TEXTS_COLUMN, OPT_ID_COLUMN, OPT_TEXT_COLUMN, OPT_EMB_COLUMN,
	OPT_HEADER, OPT_NO_HEADER, OPT_FORMAT, OPT_CONFIG, OPT_SPLIT, OPT_EMBEDDER, OPT_MODEL,
	OPT_DIM, OPT_SAVE, OPT_IF_CHANGED, OPT_UPDATE, OPT_DELETE_MISSING, OPT_LIST_INPUTS,
};

static const struct option options[] = {
	{"output", required_argument, NULL, 'o'},
	{"texts", required_argument, NULL, OPT_TEXTS},
	{"texts-column", required_argument, NULL, OPT_TEXTS_COLUMN},
	{"id-column", required_argument, NULL, OPT_ID_COLUMN},
	{"text-column", required_argument, NULL, OPT_TEXT_COLUMN},
	{"embedding-column", required_argument, NULL, OPT_EMB_COLUMN},
	{"header", no_argument, NULL, OPT_HEADER},
	{"no-header", no_argument, NULL, OPT_NO_HEADER},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"split", required_argument, NULL, OPT_SPLIT},
	{"embedder", required_argument, NULL, OPT_EMBEDDER},
	{"model", required_argument, NULL, OPT_MODEL},
	{"dim", required_argument, NULL, OPT_DIM},
	{"save-embeddings", required_argument, NULL, OPT_SAVE},
	{"if-changed", no_argument, NULL, OPT_IF_CHANGED},
	{"update", no_argument, NULL, OPT_UPDATE},
	{"delete-missing", no_argument, NULL, OPT_DELETE_MISSING},
	{"list-inputs", no_argument, NULL, OPT_LIST_INPUTS},
	CMD_OUT_OPTIONS,
	CMD_API_OPTIONS,
	CMD_COMMON_OPTIONS,
	{NULL, 0, NULL, 0},
};

/* --list-inputs: the data files, one per line, for scripts that share the
 * files out (contrib/slurm/fidx-slurm). A name with a line break would
 * read as two: refused. With -v, each file is also opened as a build
 * opens it and what its reader chose is told on stderr: the format, and
 * the columns or array the rows come from with their types. */
static int list_inputs(const struct fidx_ingest_opts *o)
{
	struct fidx_err err = {0};
	struct fidx_plan plan;
	size_t i;
	int status = FIDX_EXIT_OK;

	if (fidx_ingest_plan(o, &plan, &err))
		return cmd_finish(cmd_fail(&err));
	for (i = 0; i < plan.n && status == FIDX_EXIT_OK; i++)
		if (strchr(plan.files[i].name, '\n')) {
			char q[256];
			fidx_err_quote(q, sizeof q, plan.files[i].name, strlen(plan.files[i].name));
			cmd_error("\"%s\": a file name with a line break cannot be listed one per line", q);
			status = FIDX_EXIT_INPUT;
		}
	for (i = 0; i < plan.n && status == FIDX_EXIT_OK; i++) {
		printf("%s\n", plan.files[i].name);
		if (fidx_verbosity >= 2 && i < plan.ninputs) {
			struct fidx_reader_opts ro = o->read;
			struct fidx_reader *r;
			char desc[1024];
			if (plan.files[i].format)
				ro.format = plan.files[i].format;
			if (fidx_reader_open(&r, plan.files[i].path, &ro, &err)) {
				status = cmd_fail(&err);
				break;
			}
			fidx_reader_describe(r, desc, sizeof desc);
			fidx_reader_close(r);
			fflush(stdout);
			cmd_verbose("%s: %s", plan.files[i].name, desc);
		}
	}
	fidx_plan_free(&plan);
	return cmd_finish(status);
}

/* No -o. "fidx build --update faqs.fidx new.csv" meant the index to update
 * as the first input: say so. */
static int no_output(const struct fidx_ingest_opts *o)
{
	struct fidx_file *f;
	if (o->update && o->ninputs && fidx_file_open(&f, o->inputs[0], NULL) == 0) {
		fidx_file_close(f);
		cmd_error("no output: give -o <index>; did you mean `-o %s --update`?", o->inputs[0]);
		return FIDX_EXIT_USAGE;
	}
	return cmd_usage_error("no output: give -o <index>");
}

/* The run's figures, for --log-format json. */
static void log_stats(const struct fidx_ingest_opts *o, const struct fidx_ingest_stats *st, int status)
{
	struct stat sb;
	if (!st->skipped)
		cmd_log_num("rows", (double)st->rows);
	if (o->update && !status) {
		cmd_log_num("added", (double)st->added);
		cmd_log_num("replaced", (double)st->replaced);
		cmd_log_num("unchanged", (double)st->unchanged);
		cmd_log_num(o->delete_missing ? "deleted" : "kept", (double)(st->deleted + st->kept));
	}
	cmd_log_num("files", (double)st->files);
	if (st->api.requests || st->api.cached) {
		cmd_log_num("texts_embedded", (double)st->api.embedded);
		cmd_log_num("texts_cached", (double)st->api.cached);
		cmd_log_num("api_requests", (double)st->api.requests);
		cmd_log_num("api_retries", (double)st->api.retries);
	}
	if (!status && !st->skipped && stat(o->out, &sb) == 0)
		cmd_log_num("bytes", (double)sb.st_size);
}

int main(int argc, char **argv)
{
	/* Options that cannot change what a build writes: left out of the
	 * recipe --if-changed compares. Any other option is in it. */
	static const char *const not_in_recipe[] = {
		"output", "if-changed", "list-inputs", "update", "delete-missing", "log-format", "wait",
		"no-wait", "keep", "force", "token-file", "batch", "concurrency", "retries", "timeout", "cache",
		"no-cache", "threads", "progress", "no-progress", "quiet", "verbose", "help", "version", NULL,
	};
	struct fidx_ingest_opts o;
	struct fidx_ingest_stats st;
	struct fidx_err err = {0};
	static struct cmd_recipe recipe;
	char recipe_hex[65];
	int c, status, list = 0, li = -1;

	cmd_init("fidx-build");
	memset(&o, 0, sizeof o);
	o.level = 1;
	o.read.header = FIDX_HEADER_AUTO;
	o.note = cmd_reader_note;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:qvh", options, &li)) != -1) {
		cmd_recipe_note(&recipe, options, c, li, optarg);
		li = -1;
		switch (c) {
		case 'o': o.out = optarg; break;
		case OPT_TEXTS: o.texts = optarg; break;
		case OPT_TEXTS_COLUMN: o.texts_column = optarg; break;
		case OPT_ID_COLUMN: o.read.id_column = optarg; break;
		case OPT_TEXT_COLUMN: o.read.text_column = optarg; break;
		case OPT_EMB_COLUMN: o.read.embedding_column = optarg; break;
		case OPT_HEADER: o.read.header = FIDX_HEADER_YES; break;
		case OPT_NO_HEADER: o.read.header = FIDX_HEADER_NO; break;
		case OPT_FORMAT:
			if (cmd_parse_format(optarg, &o.read.format))
				return FIDX_EXIT_USAGE;
			break;
		case OPT_CONFIG: o.config = optarg; break;
		case OPT_SPLIT: o.split = optarg; break;
		case OPT_EMBEDDER: o.embed.name = optarg; break;
		case OPT_MODEL: fidx_params_set(&o.embed.params, "model", optarg); break;
		case OPT_DIM: {
			size_t dim;
			if (cmd_parse_size("--dim", optarg, 1, 1u << 20, &dim))
				return FIDX_EXIT_USAGE;
			fidx_params_set(&o.embed.params, "dim", optarg);
			break;
		}
		case OPT_SAVE: o.save_embeddings = optarg; break;
		case OPT_IF_CHANGED: o.if_changed = 1; break;
		case OPT_UPDATE: o.update = 1; break;
		case OPT_DELETE_MISSING: o.delete_missing = 1; break;
		case OPT_LIST_INPUTS: list = 1; break;
		default:
			if ((status = cmd_out_option(c, &o.flags, &o.level)) == -2 &&
			    (status = cmd_api_option(c, &o.embed)) == -2)
				status = cmd_common_option(c, usage, argv);
			if (status != CMD_CONTINUE)
				return status;
		}
	}
	o.inputs = (const char *const *)argv + optind;
	o.ninputs = (size_t)(argc - optind);
	cmd_hub_hooks(&o.hub);
	if (list)
		return o.ninputs ? list_inputs(&o) : cmd_usage_error("--list-inputs lists the files of inputs: give some");
	if (!o.out)
		return no_output(&o);
	if (optind == argc && !o.texts)
		return cmd_usage_error("no input: give input files or folders, or --texts <file>");
	if (o.texts && o.read.text_column)
		return cmd_usage_error("--texts and --text-column both give texts: use one");
	if (o.delete_missing && !o.update)
		return cmd_usage_error("--delete-missing goes with --update");
	if (o.save_embeddings && optind < argc)
		return cmd_usage_error("--save-embeddings works with --texts and no inputs");
	cmd_recipe_digest(&recipe, not_in_recipe, argv + optind, (size_t)(argc - optind), recipe_hex);
	o.recipe = recipe_hex;
	cmd_embed_hooks(&o.embed);
	o.progress = cmd_rows_progress();
	cmd_log_str("output", o.out);
	status = fidx_ingest(&o, &st, &err) ? cmd_fail(&err) : FIDX_EXIT_OK;
	log_stats(&o, &st, status);
	cmd_hub_report(&st.hub, 0);
	if (status)
		return cmd_finish(status);
	cmd_progress_done();
	if (st.skipped) {
		cmd_log_str("outcome", "skipped");
		cmd_note("%s is up to date: same options, %zu source%s unchanged; skipped", o.out, st.files,
		         st.files == 1 ? "" : "s");
		cmd_hub_report(&st.hub, 1);
		return cmd_finish(FIDX_EXIT_OK);
	}
	if (o.update)
		cmd_note("updated %s: %llu rows from %zu file%s: %llu added, %llu replaced, %llu unchanged, "
		         "%llu %s",
		         o.out, (unsigned long long)st.rows, st.files, st.files == 1 ? "" : "s",
		         (unsigned long long)st.added, (unsigned long long)st.replaced,
		         (unsigned long long)st.unchanged, (unsigned long long)(st.deleted + st.kept),
		         o.delete_missing ? "deleted" : "kept from before");
	else
		cmd_note("wrote %s: %llu rows from %zu file%s", o.out, (unsigned long long)st.rows, st.files,
		         st.files == 1 ? "" : "s");
	cmd_hub_report(&st.hub, 1);
	if (st.api.requests || st.api.cached)
		cmd_note("embedding API: %zu texts embedded in %zu requests (%zu retries), %zu from the cache; "
		         "%.2f s, %.0f texts/s",
		         st.api.embedded, st.api.requests, st.api.retries, st.api.cached, st.api.seconds,
		         st.api.seconds > 0 ? (double)(st.api.embedded + st.api.cached) / st.api.seconds : 0.0);
	return cmd_finish(FIDX_EXIT_OK);
}
