#include "plan.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hub.h"
#include "remote.h"
#include "token.h"
#include "uri.h"

/* hf:// inputs: the client, and each input's URL and commit, in the order
 * of the pending entries. */
struct fidx_plan_hub {
	struct fidx_hub *h;
	struct item {
		struct fidx_hf_uri uri;
		char commit[41];
	} *items;
	size_t n;
};

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

enum { INPUT, DATASET, TEXTS, HUB };

/* A new entry at the end of p->files (not counted yet), or NULL when out
 * of memory. */
static struct fidx_plan_file *grow(struct fidx_plan *p, size_t *cap)
{
	if (p->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 8;
		struct fidx_plan_file *nf = realloc(p->files, ncap * sizeof *nf);
		if (!nf)
			return NULL;
		p->files = nf;
		*cap = ncap;
	}
	memset(&p->files[p->n], 0, sizeof p->files[p->n]);
	return &p->files[p->n];
}

/* Adds path (named name, NULL: path). An hf:// file (kind HUB) is checked
 * by its name; its size is the listing's, its time the cache's. */
static int add(struct fidx_plan *p, size_t *cap, const char *path, const char *name, int kind,
               const struct fidx_reader_opts *ro, struct fidx_err *err)
{
	struct fidx_plan_file *f;
	struct stat st;
	int rc;

	if (!(f = grow(p, cap)))
		return fidx_err_nomem(err);
	if (!(f->path = strdup(path)) || !(f->name = strdup(name ? name : path))) {
		free(f->path);
		return fidx_err_nomem(err);
	}
	p->n++;
	f->dataset = kind == DATASET || kind == HUB;
	if (kind != HUB && strcmp(path, "-") == 0) {
		p->stdin_used = 1;
		f->format = kind == TEXTS ? NULL : ro->format;
		return 0;
	}
	/* The texts file holds no embeddings: its name is its own business. */
	if (kind != TEXTS && (rc = check_name(ro, f->name, f->dataset, &f->format, err)) != 0)
		return rc;
	if (!f->dataset)
		f->format = NULL; /* told by its bytes */
	if (kind != TEXTS && ro->format)
		f->format = ro->format;
	if (kind == HUB && strcmp(path, name) == 0)
		return 0; /* not fetched */
	if (stat(path, &st) != 0)
		return fidx_err_sys(err, FIDX_EIO, errno, "%s", path);
	if (kind != HUB)
		f->size = (uint64_t)st.st_size;
	f->mtime_s = (int64_t)st.st_mtim.tv_sec;
	f->mtime_ns = (int32_t)st.st_mtim.tv_nsec;
	return 0;
}

/* The client, opened for the first hf:// input: online, with the token. */
static int hub_open(struct fidx_plan *p, const struct fidx_plan_opts *o, struct fidx_err *err)
{
	struct fidx_hub_opts ho = o->hub;
	char *token = NULL;
	int offline = ho.offline ? ho.offline > 0 : fidx_hub_offline_env();
	int rc;

	if (p->hub)
		return 0;
	if (!(p->hub = calloc(1, sizeof *p->hub)))
		return fidx_err_nomem(err);
	/* The token lookup is the embedding API's (io/embedders/api.c): the
	 * same variables and files. */
	if (!offline && !ho.token && (rc = fidx_token_find(NULL, NULL, &token, err)) != 0)
		return rc;
	if (!ho.token)
		ho.token = token;
	ho.offline = offline ? 1 : -1;
	rc = fidx_hub_open(&p->hub->h, &ho, err);
	fidx_token_free(token);
	return rc;
}

/* Begins an hf:// input: its commit, and a pending entry. */
static int begin_hub(struct fidx_plan *p, size_t *cap, const struct fidx_plan_opts *o, const char *input,
                     struct fidx_err *err)
{
	struct fidx_plan_file *f;
	struct item *it, *items;
	size_t k;
	int rc;

	if ((rc = hub_open(p, o, err)) != 0)
		return rc;
	if (!(items = realloc(p->hub->items, (p->hub->n + 1) * sizeof *items)))
		return fidx_err_nomem(err);
	p->hub->items = items;
	it = &items[p->hub->n];
	memset(it, 0, sizeof *it);
	if ((rc = fidx_hf_uri_parse(input, &it->uri, err)) != 0)
		return rc;
	p->hub->n++;
	/* One request per repository and revision. */
	for (k = 0; k + 1 < p->hub->n; k++)
		if (strcmp(items[k].uri.repo, it->uri.repo) == 0 &&
		    (items[k].uri.revision ? it->uri.revision && strcmp(items[k].uri.revision, it->uri.revision) == 0
		                           : !it->uri.revision))
			break;
	if (k + 1 < p->hub->n)
		memcpy(it->commit, items[k].commit, 41);
	else if ((rc = fidx_hub_commit(p->hub->h, it->uri.repo, it->uri.revision, it->commit, err)) != 0)
		return rc;
	if (!(f = grow(p, cap)))
		return fidx_err_nomem(err);
	f->pending = 1;
	f->dataset = 1;
	if (!(f->path = strdup(input)) || !(f->name = fidx_hf_uri_format(it->uri.repo, it->commit, ""))) {
		free(f->path);
		return fidx_err_nomem(err);
	}
	p->n++;
	return 0;
}

int fidx_plan_begin(const struct fidx_plan_opts *o, struct fidx_plan *p, struct fidx_err *err)
{
	size_t i, j, cap = 0;
	int rc = 0;

	memset(p, 0, sizeof *p);
	for (i = 0; rc == 0 && i < o->ninputs; i++) {
		const char *in = o->inputs[i];
		struct stat st;
		if (fidx_hf_is_uri(in)) {
			rc = begin_hub(p, &cap, o, in, err);
		} else if (strcmp(in, "-") != 0 && stat(in, &st) == 0 && S_ISDIR(st.st_mode)) {
			struct fidx_hub_files files;
			if ((rc = fidx_hub_resolve(in, o->config, o->split ? o->split : "train", &files, err)) != 0)
				break;
			for (j = 0; rc == 0 && j < files.n; j++)
				rc = add(p, &cap, files.paths[j], NULL, DATASET, o->read, err);
			fidx_hub_files_free(&files);
		} else {
			rc = add(p, &cap, in, NULL, INPUT, o->read, err);
		}
	}
	p->ninputs = p->n;
	if (rc == 0 && o->texts)
		rc = add(p, &cap, o->texts, NULL, TEXTS, o->read, err);
	if (rc)
		fidx_plan_free(p);
	return rc;
}

/* The paths in the repository an hf:// input stands for, into out. */
static int choose(struct fidx_plan *p, const struct fidx_plan_opts *o, const struct item *it,
                  const struct fidx_hub_tree *t, struct fidx_hub_files *out, struct fidx_err *err)
{
	const char *path = it->uri.path;
	size_t i, pl = strlen(path);
	int rc = 0, folder = pl == 0;

	memset(out, 0, sizeof *out);
	if (pl && fidx_hub_tree_find(t, path)) {
		if (!(out->paths = malloc(sizeof *out->paths)) || !(out->paths[0] = strdup(path))) {
			free(out->paths);
			out->paths = NULL;
			return fidx_err_nomem(err);
		}
		out->n = 1;
		return 0;
	}
	for (i = 0; !folder && i < t->n; i++)
		folder = strncmp(t->v[i].path, path, pl) == 0 && t->v[i].path[pl] == '/';
	if (folder) {
		struct fidx_hub_source src;
		if ((rc = fidx_hub_source(p->hub->h, it->uri.repo, it->commit, path, &src, err)) != 0)
			return rc;
		rc = fidx_hub_choose(&src, o->config, o->split ? o->split : "train", out, err);
		src.close(src.ctx);
		for (i = 0; rc == 0 && pl && i < out->n; i++) {
			char *full = malloc(pl + strlen(out->paths[i]) + 2);
			if (!full) {
				rc = fidx_err_nomem(err);
				break;
			}
			strcpy(full, path);
			strcat(full, "/");
			strcat(full, out->paths[i]);
			free(out->paths[i]);
			out->paths[i] = full;
		}
	} else if (fidx_hf_is_glob(path)) {
		const char **paths = malloc((t->n ? t->n : 1) * sizeof *paths);
		unsigned char *match = malloc(t->n ? t->n : 1);
		if (!paths || !match)
			rc = fidx_err_nomem(err);
		for (i = 0; rc == 0 && i < t->n; i++)
			paths[i] = t->v[i].path;
		if (rc == 0 && (rc = fidx_hub_match(path, paths, t->n, match, err)) == 0 &&
		    !(out->paths = malloc((t->n ? t->n : 1) * sizeof *out->paths)))
			rc = fidx_err_nomem(err);
		for (i = 0; rc == 0 && i < t->n; i++)
			if (match[i] && !(out->paths[out->n++] = strdup(paths[i])))
				rc = fidx_err_nomem(err);
		if (rc == 0 && out->n == 0) {
			char *what = fidx_hf_uri_format(it->uri.repo, it->commit, path);
			rc = fidx_err_set(err, FIDX_EINPUT, "%s: no file of the dataset matches", what ? what : path);
			free(what);
		}
		free(paths);
		free(match);
	} else {
		char *what = fidx_hf_uri_format(it->uri.repo, it->commit, path);
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: no such file or folder in the dataset", what ? what : path);
		free(what);
	}
	if (rc)
		fidx_hub_files_free(out);
	return rc;
}

int fidx_plan_finish(struct fidx_plan *p, const struct fidx_plan_opts *o, int fetch, struct fidx_err *err)
{
	struct fidx_plan done;
	size_t i, j, k = 0, cap = 0, ninputs = SIZE_MAX;
	int rc = 0;

	for (i = 0; i < p->n && !p->files[i].pending; i++)
		;
	if (i == p->n)
		return 0;
	memset(&done, 0, sizeof done);
	done.stdin_used = p->stdin_used;
	for (i = 0; rc == 0 && i < p->n; i++) {
		struct fidx_plan_file *f = &p->files[i], *g;
		const struct item *it;
		const struct fidx_hub_tree *t;
		struct fidx_hub_files files;
		if (i == p->ninputs)
			ninputs = done.n;
		if (!f->pending) {
			/* moved over as it is */
			if (!(g = grow(&done, &cap))) {
				rc = fidx_err_nomem(err);
				break;
			}
			*g = *f;
			memset(f, 0, sizeof *f);
			done.n++;
			continue;
		}
		it = &p->hub->items[k++];
		if ((rc = fidx_hub_files(p->hub->h, it->uri.repo, it->commit, &t, err)) != 0 ||
		    (rc = choose(p, o, it, t, &files, err)) != 0)
			break;
		for (j = 0; rc == 0 && j < files.n; j++) {
			const struct fidx_hub_entry *e = fidx_hub_tree_find(t, files.paths[j]);
			char *name = fidx_hf_uri_format(it->uri.repo, it->commit, files.paths[j]), *local = NULL;
			if (!name) {
				rc = fidx_err_nomem(err);
				break;
			}
			if (fetch && e)
				rc = fidx_hub_fetch(p->hub->h, it->uri.repo, it->commit, e, &local, err);
			if (rc == 0)
				rc = add(&done, &cap, local ? local : name, name, HUB, o->read, err);
			if (rc == 0)
				done.files[done.n - 1].size = e ? e->size : 0;
			free(local);
			free(name);
		}
		fidx_hub_files_free(&files);
	}
	done.ninputs = ninputs == SIZE_MAX ? done.n : ninputs;
	done.hub = p->hub;
	p->hub = NULL;
	if (rc) {
		/* keep the client for the figures; drop the rest */
		p->hub = done.hub;
		done.hub = NULL;
		fidx_plan_free(&done);
		return rc;
	}
	fidx_plan_free(p);
	*p = done;
	return 0;
}

int fidx_plan_make(const struct fidx_plan_opts *o, struct fidx_plan *p, struct fidx_err *err)
{
	int rc = fidx_plan_begin(o, p, err);
	if (rc == 0 && (rc = fidx_plan_finish(p, o, 1, err)) != 0)
		fidx_plan_free(p);
	return rc;
}

struct fidx_hub_stats fidx_plan_hub_stats(const struct fidx_plan *p)
{
	struct fidx_hub_stats s;
	if (p->hub && p->hub->h)
		return fidx_hub_stats(p->hub->h);
	memset(&s, 0, sizeof s);
	return s;
}

void fidx_plan_free(struct fidx_plan *p)
{
	size_t i;
	for (i = 0; i < p->n; i++) {
		free(p->files[i].path);
		free(p->files[i].name);
	}
	free(p->files);
	if (p->hub) {
		for (i = 0; i < p->hub->n; i++)
			fidx_hf_uri_free(&p->hub->items[i].uri);
		free(p->hub->items);
		fidx_hub_close(p->hub->h);
		free(p->hub);
	}
	memset(p, 0, sizeof *p);
}
