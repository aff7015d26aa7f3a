#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hub.h"

/* Whether fidx reads path, by its name: not a format it knows it does not
 * read and, for a dataset's file (listed by its card, so never sniffed), a
 * format it reads. Sets *format to the one its name says, or NULL. */
static int check_name(const struct fidx_reader_opts *ro, const char *path, int dataset,
                      const struct fidx_format **format, struct fidx_err *err)
{
	const struct fidx_format *f = fidx_format_by_name(ro->formats, path);
	*format = f;
	if (f && !fidx_format_readable(f))
		return fidx_format_refuse(ro->formats, path, f->title, err);
	if (dataset && !f)
		return fidx_format_refuse(ro->formats, path, "these", err);
	return 0;
}

enum { INPUT, DATASET, TEXTS };

static int add(struct fidx_plan *p, size_t *cap, const char *path, int kind,
               const struct fidx_reader_opts *ro, struct fidx_err *err)
{
	struct fidx_plan_file *f;
	struct stat st;
	int rc;

	if (p->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 8;
		struct fidx_plan_file *nf = realloc(p->files, ncap * sizeof *nf);
		if (!nf)
			return fidx_err_nomem(err);
		p->files = nf;
		*cap = ncap;
	}
	f = &p->files[p->n];
	memset(f, 0, sizeof *f);
	if (!(f->path = strdup(path)) || !(f->name = strdup(path))) {
		free(f->path);
		return fidx_err_nomem(err);
	}
	p->n++;
	f->dataset = kind == DATASET;
	if (strcmp(path, "-") == 0) {
		p->stdin_used = 1;
		f->format = kind == TEXTS ? NULL : ro->format;
		return 0;
	}
	/* The texts file holds no embeddings: its name is its own business. */
	if (kind != TEXTS && (rc = check_name(ro, path, kind == DATASET, &f->format, err)) != 0)
		return rc;
	if (kind != DATASET)
		f->format = NULL; /* told by its bytes */
	if (kind != TEXTS && ro->format)
		f->format = ro->format;
	if (stat(path, &st) != 0)
		return fidx_err_sys(err, FIDX_EIO, errno, "%s", path);
	f->size = (uint64_t)st.st_size;
	f->mtime_s = (int64_t)st.st_mtim.tv_sec;
	f->mtime_ns = (int32_t)st.st_mtim.tv_nsec;
	return 0;
}

int fidx_plan_make(const char *const *inputs, size_t ninputs, const char *texts, const char *config,
                   const char *split, const struct fidx_reader_opts *ro, struct fidx_plan *p,
                   struct fidx_err *err)
{
	size_t i, j, cap = 0;
	int rc = 0;

	memset(p, 0, sizeof *p);
	for (i = 0; rc == 0 && i < ninputs; i++) {
		struct stat st;
		if (strcmp(inputs[i], "-") != 0 && stat(inputs[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			struct fidx_hub_files files;
			if ((rc = fidx_hub_resolve(inputs[i], config, split ? split : "train", &files, err)) != 0)
				break;
			for (j = 0; rc == 0 && j < files.n; j++)
				rc = add(p, &cap, files.paths[j], DATASET, ro, err);
			fidx_hub_files_free(&files);
		} else {
			rc = add(p, &cap, inputs[i], INPUT, ro, err);
		}
	}
	p->ninputs = p->n;
	if (rc == 0 && texts)
		rc = add(p, &cap, texts, TEXTS, ro, err);
	if (rc)
		fidx_plan_free(p);
	return rc;
}

void fidx_plan_free(struct fidx_plan *p)
{
	size_t i;
	for (i = 0; i < p->n; i++) {
		free(p->files[i].path);
		free(p->files[i].name);
	}
	free(p->files);
	memset(p, 0, sizeof *p);
}
