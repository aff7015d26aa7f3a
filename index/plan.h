/* What a build reads, planned once: its inputs (files, dataset folders,
 * hf:// datasets on the Hugging Face Hub, standard input) and its texts
 * file resolved into the files it reads, in the order it reads them, each
 * checked to exist and to be in a format fidx reads. --list-inputs prints
 * the plan, --if-changed compares it with what the index recorded,
 * progress sums its sizes, and the build opens its files: a dataset's card
 * is read and its files listed once per build.
 *
 * An hf:// input (io/hub/uri.h) is planned in two steps. fidx_plan_begin
 * resolves its revision to a commit (one request, or none: a commit given,
 * or offline) and leaves one pending entry named hf://datasets/REPO@COMMIT;
 * fidx_plan_finish lists the repository at that commit, chooses the files
 * (the whole repository or a folder: as a dataset folder, by its card and
 * layout, for config and split; a file; or a glob's matches) and, when
 * asked to, brings them into the Hugging Face cache (io/hub/remote.h).
 * Each file is then named hf://datasets/REPO@COMMIT/PATH and opened in
 * the cache. So --if-changed can tell an unchanged dataset from its commit
 * alone, before anything is listed or downloaded. */
#ifndef FIDX_INDEX_PLAN_H
#define FIDX_INDEX_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "reader.h"
#include "remote.h"

struct fidx_plan_file {
	char *path;                       /* to open; "-" for standard input */
	char *name;                       /* to record and show: the path, or where it came from */
	const struct fidx_format *format; /* the format to read it as; NULL: told by its bytes */
	uint64_t size;                    /* bytes as stored; 0 for standard input */
	int64_t mtime_s;                  /* its modification time when planned */
	int32_t mtime_ns;
	int dataset;                      /* chosen from a dataset folder by its card */
	int pending;                      /* an hf:// input not listed yet: name is hf://datasets/REPO@COMMIT */
};

struct fidx_plan_hub;

struct fidx_plan {
	struct fidx_plan_file *files; /* the inputs' files, then the texts file, if any */
	size_t n;
	size_t ninputs;               /* how many files come from the inputs */
	int stdin_used;               /* an input or the texts file is standard input */
	struct fidx_plan_hub *hub;    /* hf:// inputs' client and state, or NULL */
};

struct fidx_plan_opts {
	const char *const *inputs;
	size_t ninputs;
	const char *texts;            /* may be NULL */
	const char *config, *split;   /* NULL: the default config, "train" */
	const struct fidx_reader_opts *read;
	/* hf:// inputs: the endpoint, cache, offline mode and callbacks (zero:
	 * the environment's); the token, when NULL, is HF_TOKEN's or the
	 * Hugging Face token file's (io/http/token.h), looked up online
	 * only. */
	struct fidx_hub_opts hub;
};

/* The plan of o->inputs[0..ninputs) and o->texts: each input a file, "-",
 * a dataset folder or an hf:// dataset, folders and datasets resolved for
 * config and split. A dataset's files are read as their names say (the
 * Hub's rule), other files as their bytes say; read->format, when set,
 * overrides both, and read->formats is the registry. Errors: FIDX_EIO for a
 * file that cannot be found or read (its name and why), FIDX_EINPUT for a
 * format fidx does not read or a folder that does not resolve, and the
 * Hub's errors (io/hub/wire.h, remote.h). fidx_plan_make is begin then
 * finish with fetch. */
int fidx_plan_make(const struct fidx_plan_opts *o, struct fidx_plan *p, struct fidx_err *err);
int fidx_plan_begin(const struct fidx_plan_opts *o, struct fidx_plan *p, struct fidx_err *err);
/* Expands the pending entries into their files; with fetch, each is
 * brought into the cache and its path is there, else path is its name
 * (for --list-inputs) and nothing but the card is downloaded. o must be
 * the options given to begin, still alive. */
int fidx_plan_finish(struct fidx_plan *p, const struct fidx_plan_opts *o, int fetch, struct fidx_err *err);
/* The Hub's figures so far (all zero without hf:// inputs). */
struct fidx_hub_stats fidx_plan_hub_stats(const struct fidx_plan *p);
void fidx_plan_free(struct fidx_plan *p);

#endif
