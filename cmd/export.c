/* fidx export: an index's vectors, ids and texts in other tools' formats. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "export.h"
#include "outfile.h"
#include "publish.h"
#include "token.h"

static const char usage[] =
	"usage: fidx export [<options>] <index> (--faiss|--npy|--csv|--jsonl <file>)...\n"
	"   or: fidx export --hub hf://datasets/<owner>/<name>[@<branch>] [-m <message>] <index>\n"
	"\n"
	"Writes what an index holds in the formats other tools read. Row i of every\n"
	"output is the same item; vectors are the index's, L2-normalized float32.\n"
	"\n"
	"      --faiss <file>         a FAISS IndexFlatIP: faiss.read_index(file) loads it\n"
	"                             and its search gives fidx's top-k\n"
	"      --npy <file>           a numpy array, float32, shape (count, dimension):\n"
	"                             numpy.load(file)\n"
	"      --csv <file>           the layout of pandas' DataFrame(vectors).to_csv(\n"
	"                             index=False), header 0,1,...,D-1, ready to publish\n"
	"                             as a Hub dataset; floats written to read back exact\n"
	"      --jsonl <file>         one JSON object per row: {\"id\": ..., \"text\": ...}\n"
	"                             (text when the index has texts)\n"
	"      --no-wait              fail with status 7 if another fidx is writing an output\n"
	"\n"
	"Publishing on the Hugging Face Hub:\n"
	"      --hub <url>            publish the index as the dataset hf://datasets/<owner>/\n"
	"                             <name> (its branch main, or @<branch>), in one commit:\n"
	"                             embeddings.csv (--csv's layout, then id and text\n"
	"                             columns when the index has them) and a dataset card\n"
	"                             README.md; the dataset is made when missing. Prints\n"
	"                             the commit's URL. fidx build hf://... gives the index\n"
	"                             back, datasets.load_dataset loads it\n"
	"  -m, --message <text>       the commit's title (default: Publish <index> with fidx)\n"
	"      --private              make the dataset private, if it is made now\n"
	"      --token-file <file>    the token (needs write access); default: HF_TOKEN,\n"
	"                             HUGGING_FACE_HUB_TOKEN, then the Hugging Face token file\n"
	"                             (HF_TOKEN_PATH, $HF_HOME/token); HF_ENDPOINT names\n"
	"                             another Hub\n"
	CMD_COMMON_HELP
	"\n"
	"Each output is written to a temporary file and renamed into place once all\n"
	"are written; an output may not be the index itself.\n"
	"\n" FIDX_EXIT_CODES_HELP;

enum { OPT_FAISS = 256, OPT_NPY, OPT_CSV, OPT_JSONL, OPT_NO_WAIT, OPT_HUB, OPT_PRIVATE };

static const struct option options[] = {
	{"faiss", required_argument, NULL, OPT_FAISS},
	{"npy", required_argument, NULL, OPT_NPY},
	{"csv", required_argument, NULL, OPT_CSV},
	{"jsonl", required_argument, NULL, OPT_JSONL},
	{"no-wait", no_argument, NULL, OPT_NO_WAIT},
	{"hub", required_argument, NULL, OPT_HUB},
	{"message", required_argument, NULL, 'm'},
	{"private", no_argument, NULL, OPT_PRIVATE},
	{"token-file", required_argument, NULL, CMD_OPT_TOKEN_FILE},
	CMD_COMMON_OPTIONS,
	{NULL, 0, NULL, 0},
};

static void on_log(void *ctx, const char *line)
{
	(void)ctx;
	cmd_verbose("%s", line);
}

/* --hub: publishes the index. */
static int publish(struct fidx_publish_opts *p, const char *token_file)
{
	struct fidx_publish_result res;
	struct fidx_err err = {0};
	char *token = NULL;
	int rc;

	/* A token, before any work. */
	if (fidx_token_find(token_file, NULL, &token, &err))
		return cmd_fail(&err);
	if (!token) {
		cmd_error("publishing on the Hub needs a token with write access: set HF_TOKEN, log in with "
		          "huggingface-cli (it writes $HF_HOME/token), or give --token-file");
		return FIDX_EXIT_DENIED;
	}
	p->token = token;
	p->log = on_log;
	rc = fidx_publish(p, &res, &err);
	fidx_token_free(token);
	if (rc)
		return cmd_fail(&err);
	if (res.hub.created)
		cmd_note("made the dataset %s%s", p->url, p->private ? " (private)" : "");
	if (!res.hub.url[0]) {
		cmd_note("%s holds this index already (%llu rows of dimension %u): nothing to commit", p->url,
		         (unsigned long long)res.rows, res.dim);
		return FIDX_EXIT_OK;
	}
	cmd_note("published %s to %s: %llu rows of dimension %u, %zu file%s sent, commit %s", p->index, p->url,
	         (unsigned long long)res.rows, res.dim, res.hub.uploaded, res.hub.uploaded == 1 ? "" : "s",
	         res.hub.commit);
	printf("%s\n", res.hub.url);
	return FIDX_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct fidx_export_opts o;
	struct fidx_export_stats st;
	struct fidx_publish_opts p;
	struct fidx_err err = {0};
	const char *token_file = NULL;
	int c, status;

	cmd_init("fidx-export");
	memset(&o, 0, sizeof o);
	memset(&p, 0, sizeof p);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:qvh", options, NULL)) != -1) {
		switch (c) {
		case OPT_HUB: p.url = optarg; break;
		case 'm': p.message = optarg; break;
		case OPT_PRIVATE: p.private = 1; break;
		case CMD_OPT_TOKEN_FILE: token_file = optarg; break;
		case OPT_FAISS: o.faiss = optarg; break;
		case OPT_NPY: o.npy = optarg; break;
		case OPT_CSV: o.csv = optarg; break;
		case OPT_JSONL: o.jsonl = optarg; break;
		case OPT_NO_WAIT: o.flags |= FIDX_OUT_NOWAIT; break;
		default:
			if ((status = cmd_common_option(c, usage, argv)) != CMD_CONTINUE)
				return status;
		}
	}
	if (optind == argc)
		return cmd_usage_error("no index given");
	if (argc - optind > 1)
		return cmd_usage_error("one index at a time (merge several first with fidx merge)");
	if (!o.faiss && !o.npy && !o.csv && !o.jsonl && !p.url)
		return cmd_usage_error("nothing to write: give --faiss, --npy, --csv, --jsonl or --hub");
	if (!p.url && (p.message || p.private || token_file))
		return cmd_usage_error("-m, --private and --token-file go with --hub");
	o.index = p.index = argv[optind];
	if (o.faiss || o.npy || o.csv || o.jsonl) {
		if (fidx_export(&o, &st, &err))
			return cmd_finish(cmd_fail(&err));
		cmd_note("exported %s: %llu rows of dimension %u to %d file%s", o.index, (unsigned long long)st.rows,
		         st.dim, st.outputs, st.outputs == 1 ? "" : "s");
	}
	return cmd_finish(p.url ? publish(&p, token_file) : FIDX_EXIT_OK);
}
