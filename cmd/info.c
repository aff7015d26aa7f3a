/* fidx info: what an index holds, and whether it is intact. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "file.h"
#include "meta.h"
#include "number.h"

static const char usage[] =
	"usage: fidx info [<options>] <index>...\n"
	"\n"
	"Shows an index's format version, dimension, count, ids, embedder and model,\n"
	"sources, sizes and compression, and checks every block's checksum and that\n"
	"every row lies within the bound of its 8-bit codes. Exits with status 5\n"
	"when an index is damaged.\n"
	"\n"
	CMD_COMMON_HELP
	"\n" FIDX_EXIT_CODES_HELP;

static const struct option options[] = {
	CMD_COMMON_OPTIONS,
	{NULL, 0, NULL, 0},
};

static const char *const section_names[] = {"", "metadata", "vectors", "ids", "texts", "codes"};

/* The ids' range for integer ids, by a pass over the ids section. */
static int id_range(struct fidx_file *f, long long *lo, long long *hi, struct fidx_err *err)
{
	struct fidx_cursor *c;
	uint64_t i;
	int rc = fidx_cursor_open(&c, f, FIDX_SEC_IDS, err);
	if (rc)
		return rc;
	for (i = 0; i < fidx_file_count(f); i++) {
		const char *p;
		size_t len;
		int64_t v;
		if ((rc = fidx_cursor_record(c, &p, &len, err)) != 0)
			break;
		if (!fidx_parse_canonical_i64(p, len, &v)) {
			rc = fidx_err_set(err, FIDX_ECORRUPT, "%s: corrupt index: an integer id is not an integer",
			                  fidx_file_name(f));
			break;
		}
		if (i == 0 || v < *lo)
			*lo = v;
		if (i == 0 || v > *hi)
			*hi = v;
	}
	fidx_cursor_close(c);
	return rc;
}

static int show(const char *path, struct fidx_err *err)
{
	struct fidx_file *f = NULL;
	struct fidx_meta m;
	size_t i;
	uint64_t raw = 0;
	long long lo = 0, hi = 0;
	int rc, type;

	memset(&m, 0, sizeof m);
	if ((rc = fidx_file_open(&f, path, err)) != 0)
		return rc;
	if ((rc = fidx_meta_read(f, &m, err)) != 0)
		goto out;
	rc = fidx_file_verify(f, err);
	if (rc == 0 && m.id_kind == FIDX_IDS_INT && m.count)
		rc = id_range(f, &lo, &hi, err);
	if (rc)
		goto out;
	if (fidx_verbosity < 1)
		goto out;
	printf("%s\n", path);
	printf("  format:      fidx version %u\n", fidx_file_version(f));
	printf("  dimension:   %u\n", m.dim);
	printf("  count:       %llu\n", (unsigned long long)m.count);
	printf("  metric:      inner product of L2-normalized vectors (cosine)\n");
	if (m.id_kind == FIDX_IDS_IMPLICIT)
		printf("  ids:         implicit, 0..%llu\n", m.count ? (unsigned long long)m.count - 1 : 0ULL);
	else if (m.id_kind == FIDX_IDS_INT)
		printf("  ids:         integers, %lld..%lld\n", lo, hi);
	else
		printf("  ids:         strings\n");
	printf("  texts:       %s\n", m.has_texts ? "yes" : "no");
	printf("  embedder:    %s\n", m.embedder ? m.embedder : "(none recorded: vectors from files)");
	if (m.model)
		printf("  model:       %s\n", m.model);
	/* The embedder's other parameters; a service's as "endpoint". */
	if (fidx_meta_param(&m, "url"))
		printf("  endpoint:    %s (%s)\n", fidx_meta_param(&m, "url"),
		       fidx_meta_param(&m, "format") ? fidx_meta_param(&m, "format") : "hf");
	for (i = 0; i < m.nparams; i++)
		if (strcmp(m.params[i].key, "url") != 0 && strcmp(m.params[i].key, "format") != 0)
		{
			char label[64];
			snprintf(label, sizeof label, "%s:", m.params[i].key);
			printf("  %-12s %s\n", label, m.params[i].value);
		}
	printf("  created:     %s by fidx %s\n", m.created ? m.created : "?", m.fidx_version ? m.fidx_version : "?");
	printf("  sources:     %zu\n", m.nsources);
	for (i = 0; i < m.nsources; i++)
		printf("    %s  %llu bytes, %llu rows, sha256 %s\n", m.sources[i].path,
		       (unsigned long long)m.sources[i].bytes, (unsigned long long)m.sources[i].rows,
		       m.sources[i].sha256[0] ? m.sources[i].sha256 : "unknown");
	printf("  sections:\n");
	for (type = 1; type <= FIDX_SEC_MAX; type++) {
		const struct fidx_section_info *s = fidx_file_section(f, type);
		if (!s)
			continue;
		/* The codes are made from the vectors: not data of their own. */
		if (type != FIDX_SEC_CODES)
			raw += s->raw_bytes;
		printf("    %-9s %12llu bytes, stored in %12llu (%5.3f), %u block%s\n", section_names[type],
		       (unsigned long long)s->raw_bytes, (unsigned long long)s->stored_bytes,
		       s->raw_bytes ? (double)s->stored_bytes / (double)s->raw_bytes : 1.0, s->block_count,
		       s->block_count == 1 ? "" : "s");
	}
	printf("  file size:   %llu bytes (%.3f of the %llu bytes of data, codes aside)\n",
	       (unsigned long long)fidx_file_size(f),
	       raw ? (double)fidx_file_size(f) / (double)raw : 1.0, (unsigned long long)raw);
	printf("  checksums:   all %s\n", "good");
out:
	fidx_meta_free(&m);
	fidx_file_close(f);
	return rc;
}

int main(int argc, char **argv)
{
	struct fidx_err err = {0};
	int c, status = FIDX_EXIT_OK, i;

	cmd_init("fidx-info");
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qvh", options, NULL)) != -1)
		if ((status = cmd_common_option(c, usage, argv)) != CMD_CONTINUE)
			return status;
	status = FIDX_EXIT_OK;
	if (optind == argc)
		return cmd_usage_error("no index given");
	for (i = optind; i < argc; i++) {
		if (i > optind && fidx_verbosity > 0)
			putchar('\n');
		if (show(argv[i], &err)) {
			int code = cmd_fail(&err);
			/* The most serious status wins: corrupt over other failures. */
			if (status == FIDX_EXIT_OK || code == FIDX_EXIT_CORRUPT)
				status = code;
		}
	}
	return cmd_finish(status);
}
