/* What a build reads, planned once: its inputs (files, dataset folders,
 * standard input) and its texts file resolved into the files it reads, in
 * the order it reads them, each checked to exist and to be in a format fidx
 * reads. --list-inputs prints the plan, --if-changed compares it with what
 * the index recorded, progress sums its sizes, and the build opens its
 * files: a dataset's card is read and its files listed once per build. */
#ifndef FIDX_INDEX_PLAN_H
#define FIDX_INDEX_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "reader.h"

struct fidx_plan_file {
	char *path;                       /* to open; "-" for standard input */
	char *name;                       /* to record and show: the path, or where it came from */
	const struct fidx_format *format; /* the format to read it as; NULL: told by its bytes */
	uint64_t size;                    /* bytes as stored; 0 for standard input */
	int64_t mtime_s;                  /* its modification time when planned */
	int32_t mtime_ns;
	int dataset;                      /* chosen from a dataset folder by its card */
};

struct fidx_plan {
	struct fidx_plan_file *files; /* the inputs' files, then the texts file, if any */
	size_t n;
	size_t ninputs;               /* how many files come from the inputs */
	int stdin_used;               /* an input or the texts file is standard input */
};

/* The plan of inputs[0..ninputs) and texts (may be NULL): each input a
 * file, "-", or a dataset folder resolved for config and split (NULL: the
 * default config, "train"). A dataset's files are read as their names say
 * (the Hub's rule), other files as their bytes say; reader_opts->format,
 * when set, overrides both, and reader_opts->formats is the registry.
 * Errors: FIDX_EIO for a file that cannot be found or read (its name and
 * why), FIDX_EINPUT for a format fidx does not read or a folder that does
 * not resolve. */
int fidx_plan_make(const char *const *inputs, size_t ninputs, const char *texts, const char *config,
                   const char *split, const struct fidx_reader_opts *reader_opts, struct fidx_plan *p,
                   struct fidx_err *err);
void fidx_plan_free(struct fidx_plan *p);

#endif
