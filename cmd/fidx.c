/* fidx: the front. `fidx <command> <args>` runs `fidx-<command> <args>`,
 * found next to this program first, then on PATH (as git does). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static const char *const commands[][2] = {
	{"build", "build an index from embedding files, Hub datasets or texts"},
	{"search", "find the items most similar to queries (exact cosine, top-k)"},
	{"merge", "combine indexes built separately into one"},
	{"info", "show what an index holds and check its checksums"},
	{"export", "write an index as a FAISS index, .npy, CSV or JSON Lines, or publish it on the Hub"},
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

static void print_usage(FILE *out)
{
	size_t i;
	fprintf(out,
	        "usage: fidx [--version] [--help] <command> [<args>]\n"
	        "\n"
	        "fidx turns text embeddings into exact, persistent top-k search (FAISS\n"
	        "IndexFlatIP over L2-normalized vectors: cosine similarity).\n"
	        "\n"
	        "Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i][0], commands[i][1]);
	fprintf(out,
	        "\n"
	        "'fidx help <command>' or 'fidx <command> --help' shows a command's options.\n"
	        "\n" FIDX_EXIT_CODES_HELP);
}

/* Edit distance, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, row[64];
	if (lb >= 64 || la >= 64)
		return 64;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0], tmp;
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			diag = tmp;
		}
	}
	return row[lb];
}

static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/* The folder of this program, or NULL. */
static char *self_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	char *slash;
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return strdup(buf);
}

/* Whether a folder of PATH holds a file named prog. execvp fails with
 * EACCES when a folder of PATH may not be searched (by a user other than
 * root) even if prog is in none of them: then the command is unknown. */
static int on_path(const char *prog)
{
	const char *p = getenv("PATH");
	char path[PATH_MAX];
	struct stat st;
	while (p && *p) {
		size_t n = strcspn(p, ":");
		snprintf(path, sizeof path, "%.*s/%s", n ? (int)n : 1, n ? p : ".", prog);
		if (stat(path, &st) == 0)
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

/* Runs fidx-<cmd>; returns only on failure. */
static int run(const char *cmd, int argc, char **argv)
{
	char prog[64], path[PATH_MAX];
	char *dir = self_dir();
	size_t i, best = 0, bestd = (size_t)-1;

	snprintf(prog, sizeof prog, "fidx-%s", cmd);
	argv[0] = prog;
	(void)argc;
	if (dir) {
		snprintf(path, sizeof path, "%s/%s", dir, prog);
		free(dir);
		if (access(path, X_OK) == 0) {
			execv(path, argv);
			cmd_error("cannot run %s: %s", path, strerror(errno));
			return 126;
		}
	}
	execvp(prog, argv);
	if (errno != ENOENT && !(errno == EACCES && !on_path(prog))) {
		cmd_error("cannot run %s: %s", prog, strerror(errno));
		return 126;
	}
	fprintf(stderr, "fidx: '%s' is not a fidx command (see 'fidx --help')\n", cmd);
	for (i = 0; i < NCOMMANDS; i++) {
		size_t d = distance(cmd, commands[i][0]);
		if (d < bestd)
			bestd = d, best = i;
	}
	if (bestd <= 2)
		fprintf(stderr, "\nThe most similar command is\n\t%s\n", commands[best][0]);
	return FIDX_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	cmd_init("fidx");
	if (argc < 2) {
		print_usage(stderr);
		return FIDX_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_usage(stdout);
		return cmd_finish(FIDX_EXIT_OK);
	}
	if (strcmp(argv[1], "--version") == 0) {
		cmd_print_version();
		return cmd_finish(FIDX_EXIT_OK);
	}
	if (strcmp(argv[1], "--list-commands") == 0) {
		size_t i;
		for (i = 0; i < NCOMMANDS; i++)
			printf("%s\n", commands[i][0]);
		return cmd_finish(FIDX_EXIT_OK);
	}
	if (strcmp(argv[1], "help") == 0) {
		char *args[3] = {NULL, "--help", NULL};
		if (argc < 3) {
			print_usage(stdout);
			return cmd_finish(FIDX_EXIT_OK);
		}
		if (!valid_name(argv[2]))
			return cmd_usage_error("'%s' is not a command name", argv[2]);
		return run(argv[2], 2, args);
	}
	if (argv[1][0] == '-')
		return cmd_usage_error("unknown option %s", argv[1]);
	if (!valid_name(argv[1]))
		return cmd_usage_error("'%s' is not a command name", argv[1]);
	return run(argv[1], argc - 1, argv + 1);
}
