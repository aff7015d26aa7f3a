/* fidx merge: several indexes into one. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "outfile.h"
#include "merge.h"

static const char usage[] =
	"usage: fidx merge -o <index> [--dedupe] <input>...\n"
	"\n"
	"Combines indexes built separately (shards, nightly increments) into one,\n"
	"streaming them block by block. The inputs must have the same dimension,\n"
	"embedder and model, and all have texts or none. The output is written\n"
	"atomically and may be one of the inputs.\n"
	"\n"
	"Ids: inputs whose ids are implicit (row numbers) are renumbered consecutively\n"
	"in input order, so merging the indexes of the two halves of a file gives the\n"
	"index of the whole file. Explicit ids are kept; an id found in two inputs is\n"
	"an error, unless --dedupe keeps its last occurrence.\n"
	"\n"
	"  -o, --output <index>       the index file to write\n"
	"      --dedupe               keep the last occurrence of an id found more than once\n"
	CMD_OUT_HELP
	CMD_COMMON_HELP
	"\n" FIDX_EXIT_CODES_HELP;

enum { OPT_DEDUPE = 256 };

static const struct option options[] = {
	{"output", required_argument, NULL, 'o'},
	{"dedupe", no_argument, NULL, OPT_DEDUPE},
	CMD_OUT_OPTIONS,
	CMD_COMMON_OPTIONS,
	{NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
	struct fidx_merge_opts o;
	struct fidx_merge_stats st;
	struct fidx_err err = {0};
	int c, status;

	cmd_init("fidx-merge");
	memset(&o, 0, sizeof o);
	o.level = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:qvh", options, NULL)) != -1) {
		switch (c) {
		case 'o': o.out = optarg; break;
		case OPT_DEDUPE: o.dedupe = 1; break;
		default:
			if ((status = cmd_out_option(c, &o.flags, &o.level)) == -2)
				status = cmd_common_option(c, usage, argv);
			if (status != CMD_CONTINUE)
				return status;
		}
	}
	if (!o.out)
		return cmd_usage_error("no output: give -o <index>");
	if (optind == argc)
		return cmd_usage_error("no input indexes");
	o.inputs = (const char *const *)argv + optind;
	o.ninputs = (size_t)(argc - optind);
	cmd_log_str("output", o.out);
	o.progress = cmd_rows_progress();
	if (fidx_merge(&o, &st, &err))
		return cmd_finish(cmd_fail(&err));
	cmd_log_num("rows", (double)st.rows);
	cmd_log_num("inputs", (double)o.ninputs);
	cmd_log_num("replaced", (double)st.replaced);
	{
		struct stat sb;
		if (stat(o.out, &sb) == 0)
			cmd_log_num("bytes", (double)sb.st_size);
	}
	if (st.replaced)
		cmd_note("wrote %s: %llu rows from %zu indexes (%llu replaced by later ones)", o.out,
		         (unsigned long long)st.rows, o.ninputs, (unsigned long long)st.replaced);
	else
		cmd_note("wrote %s: %llu rows from %zu index%s", o.out, (unsigned long long)st.rows,
		         o.ninputs, o.ninputs == 1 ? "" : "es");
	return cmd_finish(FIDX_EXIT_OK);
}
