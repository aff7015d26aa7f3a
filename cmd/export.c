/* fidx export: an index's vectors, ids and texts in other tools' formats. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "export.h"
#include "outfile.h"

static const char usage[] =
	"usage: fidx export [<options>] <index> (--faiss|--npy|--csv|--jsonl <file>)...\n"
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
	CMD_COMMON_HELP
	"\n"
	"Each output is written to a temporary file and renamed into place once all\n"
	"are written; an output may not be the index itself.\n"
	"\n" FIDX_EXIT_CODES_HELP;

enum { OPT_FAISS = 256, OPT_NPY, OPT_CSV, OPT_JSONL, OPT_NO_WAIT };

static const struct option options[] = {
	{"faiss", required_argument, NULL, OPT_FAISS},
	{"npy", required_argument, NULL, OPT_NPY},
	{"csv", required_argument, NULL, OPT_CSV},
	{"jsonl", required_argument, NULL, OPT_JSONL},
	{"no-wait", no_argument, NULL, OPT_NO_WAIT},
	CMD_COMMON_OPTIONS,
	{NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
	struct fidx_export_opts o;
	struct fidx_export_stats st;
	struct fidx_err err = {0};
	int c, status;

	cmd_init("fidx-export");
	memset(&o, 0, sizeof o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qvh", options, NULL)) != -1) {
		switch (c) {
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
	if (!o.faiss && !o.npy && !o.csv && !o.jsonl)
		return cmd_usage_error("nothing to write: give --faiss, --npy, --csv or --jsonl");
	o.index = argv[optind];
	if (fidx_export(&o, &st, &err))
		return cmd_finish(cmd_fail(&err));
	cmd_note("exported %s: %llu rows of dimension %u to %d file%s", o.index, (unsigned long long)st.rows,
	         st.dim, st.outputs, st.outputs == 1 ? "" : "s");
	return cmd_finish(FIDX_EXIT_OK);
}
