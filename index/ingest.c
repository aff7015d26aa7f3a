#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder.h"
#include "embed.h"
#include "file.h"
#include "index.h"
#include "meta.h"
#include "number.h"
#include "outfile.h"
#include "plan.h"
#include "sha256.h"
#include "texts.h"
#include "vec.h"

#define EMBED_BATCH 256

struct run {
	const struct fidx_ingest_opts *o;
	struct fidx_builder *b;
	struct fidx_texts *texts;
	uint64_t texts_seen;
	struct fidx_ingest_stats *st;
	struct fidx_outfile csv; /* --save-embeddings, published after the index */
	unsigned long long csv_off;
	/* --update: the index being updated, which of its rows the inputs
	 * have again, and a row normalized for comparing. */
	struct fidx_index *old;
	unsigned char *seen;
	uint64_t rows_added;
	float *norm;
	size_t norm_dim;
	/* progress: the inputs' bytes in all, and those of the files done */
	uint64_t bytes_total, bytes_done;
	const struct fidx_plan *plan;
};

/* --update: sorts a new row as added, replaced or unchanged against the
 * old index (by id, or by row number when neither has ids). */
static int note_row(struct run *r, const float *vec, size_t dim, const char *id, size_t id_len,
                    const char *text, size_t text_len, struct fidx_err *err)
{
	const struct fidx_meta *m = fidx_index_meta(r->old);
	uint64_t row = r->rows_added;
	const char *otext;
	size_t olen = 0;
	int found;

	if ((id != NULL) != (m->id_kind != FIDX_IDS_IMPLICIT))
		found = 0; /* one has ids and the other not: nothing matches */
	else if (id && (found = fidx_index_find(r->old, id, id_len, &row, err)) < 0)
		return found;
	else if (!id)
		found = row < fidx_index_count(r->old);
	if (!found) {
		r->st->added++;
		return 0;
	}
	r->seen[row] = 1;
	if (dim != r->norm_dim) {
		float *n = realloc(r->norm, dim * sizeof *n);
		if (!n)
			return fidx_err_nomem(err);
		r->norm = n;
		r->norm_dim = dim;
	}
	otext = fidx_index_text(r->old, row, &olen);
	if (dim == fidx_index_dim(r->old) && fidx_vec_normalize(vec, r->norm, dim) == 0 &&
	    memcmp(r->norm, fidx_index_vector(r->old, row), dim * sizeof *r->norm) == 0 &&
	    (otext != NULL) == (text != NULL) && (!text || (olen == text_len && memcmp(otext, text, olen) == 0)))
		r->st->unchanged++;
	else
		r->st->replaced++;
	return 0;
}

/* Adds a row to the index being built, and sorts it for --update. */
static int add_row(struct run *r, const float *vec, size_t dim, const char *id, size_t id_len,
                   const char *text, size_t text_len, const char *where, uint64_t line, struct fidx_err *err)
{
	int rc = fidx_builder_add(r->b, vec, dim, id, id_len, text, text_len, where, line, err);
	if (rc == 0 && r->old)
		rc = note_row(r, vec, dim, id, id_len, text, text_len, err);
	r->rows_added++;
	return rc;
}

/* --update, once the inputs are in: the old rows they did not have again
 * are kept (after the inputs' rows, in their old order), or with
 * --delete-missing dropped. */
static int finish_update(struct run *r, struct fidx_err *err)
{
	const struct fidx_meta *m = fidx_index_meta(r->old);
	uint64_t i, n = fidx_index_count(r->old);
	int rc = 0;

	for (i = 0; rc == 0 && i < n; i++) {
		char buf[24];
		const char *id, *text;
		size_t id_len = 0, text_len = 0;
		if (r->seen[i])
			continue;
		if (r->o->delete_missing) {
			r->st->deleted++;
			continue;
		}
		id = m->id_kind == FIDX_IDS_IMPLICIT ? NULL : fidx_index_id(r->old, i, buf, &id_len);
		text = fidx_index_text(r->old, i, &text_len);
		rc = fidx_builder_add_trusted(r->b, fidx_index_vector(r->old, i), fidx_index_dim(r->old), id, id_len,
		                              m->id_kind, text, text_len, err);
		if (rc == FIDX_EINPUT)
			fidx_err_prefix(err, "%s: keeping its row %llu (" FIDX_SETTING("update") ")", r->o->out, (unsigned long long)i);
		r->st->kept++;
	}
	return rc;
}

static void update_free(struct run *r)
{
	fidx_index_free(r->old);
	free(r->seen);
	free(r->norm);
	r->old = NULL;
	r->seen = NULL;
	r->norm = NULL;
}

/* --update: loads the index to update, if there is one. */
static int open_update(struct run *r, struct fidx_err *err)
{
	int rc;
	if (access(r->o->out, F_OK) != 0)
		return 0;
	if ((rc = fidx_index_load(&r->old, r->o->out, err)) != 0)
		return rc;
	if (!r->o->delete_missing && fidx_index_meta(r->old)->id_kind == FIDX_IDS_IMPLICIT)
		return fidx_err_set(err, FIDX_EINPUT,
		                    "%s has no ids (its rows are numbered), so " FIDX_SETTING("update") " cannot tell which rows "
		                    "the inputs replace: add " FIDX_SETTING("delete_missing") " to replace them all, or build "
		                    "with " FIDX_SETTING("id_column"),
		                    r->o->out);
	if (!(r->seen = calloc(fidx_index_count(r->old) ? fidx_index_count(r->old) : 1, 1)))
		return fidx_err_nomem(err);
	return 0;
}

/* Appends one line of the embeddings CSV: the header when vec is NULL. */
static int csv_line(struct run *r, const float *vec, size_t dim, struct fidx_err *err)
{
	char *line = malloc(FIDX_CSV_LINE_MAX(dim));
	size_t len;
	int rc;

	if (!line)
		return fidx_err_nomem(err);
	len = fidx_format_csv_line(vec, dim, line);
	rc = fidx_pwrite_all(r->csv.fd, line, len, r->csv_off, r->o->save_embeddings, err);
	r->csv_off += len;
	free(line);
	return rc;
}

/* Records a source file in the index's metadata. */
static int add_source(struct run *r, struct fidx_source *src, const char *name, uint64_t rows,
                      struct fidx_err *err)
{
	unsigned char d[32];
	uint64_t bytes;
	char hex[65];
	struct fidx_meta *m = fidx_builder_meta(r->b);
	int rc = fidx_source_digest(src, &bytes, d, err);
	if (rc)
		return rc;
	fidx_sha256_hex(d, hex);
	if ((rc = fidx_meta_add_source(m, name ? name : fidx_source_name(src), bytes, hex, rows, err)) != 0)
		return rc;
	/* The time lets --if-changed trust a stat; reproducible builds
	 * (SOURCE_DATE_EPOCH) leave it out, and digest instead. */
	if (!getenv("SOURCE_DATE_EPOCH"))
		fidx_source_mtime(src, &m->sources[m->nsources - 1].mtime_s, &m->sources[m->nsources - 1].mtime_ns);
	return 0;
}

/* The next text from --texts, for the row at where:line. */
static int next_text(struct run *r, const char **p, size_t *len, const char *where, uint64_t line,
                     struct fidx_err *err)
{
	uint64_t tline;
	int rc = fidx_texts_next(r->texts, p, len, &tline, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fidx_err_set(err, FIDX_EINPUT,
		                    "%s has %llu texts but the inputs have more rows (the next is at %s:%llu)",
		                    r->o->texts, (unsigned long long)r->texts_seen, where,
		                    (unsigned long long)line);
	r->texts_seen++;
	return 0;
}

/* A message that names a file by its path names it by its name instead
 * (an hf:// file is read from the cache, and known by its URL). */
static void name_in_error(struct fidx_err *err, const char *path, const char *name)
{
	size_t pl = strlen(path);
	char msg[FIDX_ERR_MAX];
	if (strcmp(path, name) == 0 || strncmp(err->msg, path, pl) != 0)
		return;
	snprintf(msg, sizeof msg, "%s%s", name, err->msg + pl);
	memcpy(err->msg, msg, sizeof msg);
}

static int ingest_file(struct run *r, const struct fidx_plan_file *f, struct fidx_err *err)
{
	struct fidx_reader_opts ro = r->o->read;
	struct fidx_reader *t = NULL;
	struct fidx_rows rows;
	uint64_t nrows = 0;
	const char *name;
	int rc;

	ro.format = f->format;
	if ((rc = fidx_reader_open(&t, f->path, &ro, err)) != 0) {
		name_in_error(err, f->path, f->name);
		return rc;
	}
	if (r->o->note && fidx_reader_note(t))
		r->o->note(r->o->note_ctx, fidx_reader_note(t));
	/* One file whose header gives its rows: all the rows there will be
	 * (--update adds the old index's after them). */
	if (r->plan->ninputs == 1 && !r->o->update && fidx_reader_rows(t) &&
	    (rc = fidx_builder_expect(r->b, fidx_reader_rows(t), err)) != 0) {
		fidx_reader_close(t);
		return rc;
	}
	name = strcmp(f->path, "-") ? f->name : fidx_source_name(fidx_reader_source(t));
	while ((rc = fidx_reader_next(t, &rows, err)) == 1) {
		size_t i;
		for (i = 0; i < rows.n; i++) {
			const char *text = rows.text ? rows.text[i] : NULL;
			size_t tlen = rows.text ? rows.text_len[i] : 0;
			if (r->texts && (rc = next_text(r, &text, &tlen, name, rows.where[i], err)) != 0)
				break;
			rc = add_row(r, rows.vec + i * rows.dim, rows.dim, rows.id ? rows.id[i] : NULL,
			             rows.id ? rows.id_len[i] : 0, text, tlen, name, rows.where[i], err);
			if (rc)
				break;
			if (++nrows % FIDX_PROGRESS_EVERY == 0 && r->o->progress.fn)
				r->o->progress.fn(r->o->progress.ctx, fidx_builder_count(r->b),
				                  r->bytes_total ? (double)(r->bytes_done + fidx_source_stored(fidx_reader_source(t))) /
				                                       (double)r->bytes_total
				                                 : -1);
		}
		if (rc)
			break;
	}
	r->bytes_done += fidx_source_stored(fidx_reader_source(t));
	if (rc == 0) {
		if (nrows == 0)
			rc = fidx_err_set(err, FIDX_EINPUT, "%s: no rows", name);
		else if ((rc = add_source(r, fidx_reader_source(t), strcmp(f->path, "-") ? f->name : NULL, nrows, err)) == 0)
			r->st->files++;
	}
	fidx_reader_close(t);
	if (rc)
		name_in_error(err, f->path, f->name);
	return rc;
}

/* Texts read ahead and embedded together, so that the API embedder keeps
 * its requests in flight across batches. */
struct chunk {
	char **text;
	size_t *len;
	uint64_t *line;
	size_t n, cap;
};

static void chunk_clear(struct chunk *c)
{
	size_t i;
	for (i = 0; i < c->n; i++)
		free(c->text[i]);
	c->n = 0;
}

static void chunk_free(struct chunk *c)
{
	chunk_clear(c);
	free(c->text);
	free(c->len);
	free(c->line);
}

/* Reads up to cap texts. Returns the count's sign: 1 some, 0 none, <0 error. */
static int chunk_fill(struct run *r, struct chunk *c, struct fidx_err *err)
{
	int rc = 0;
	chunk_clear(c);
	while (c->n < c->cap) {
		const char *t;
		size_t len;
		uint64_t line;
		if ((rc = fidx_texts_next(r->texts, &t, &len, &line, err)) <= 0)
			break;
		if (!(c->text[c->n] = malloc(len + 1)))
			return fidx_err_nomem(err);
		memcpy(c->text[c->n], t, len + 1);
		c->len[c->n] = len;
		c->line[c->n] = line;
		c->n++;
		r->texts_seen++;
	}
	return rc < 0 ? rc : c->n > 0;
}

/* Embeds every text of --texts with the embedder. */
static int ingest_texts(struct run *r, struct fidx_embedder *e, struct fidx_err *err)
{
	const char *name = fidx_source_name(fidx_texts_source(r->texts));
	struct chunk c = {0};
	float *vec = NULL;
	size_t dim = 0, i, bad = 0;
	int rc, first = 1;

	c.cap = fidx_embedder_chunk(e);
	if (!(c.text = calloc(c.cap, sizeof *c.text)) || !(c.len = malloc(c.cap * sizeof *c.len)) ||
	    !(c.line = malloc(c.cap * sizeof *c.line))) {
		chunk_free(&c);
		return fidx_err_nomem(err);
	}
	while ((rc = chunk_fill(r, &c, err)) > 0) {
		if (first) {
			/* An API embedder learns its dimension from the first text. */
			if ((rc = fidx_embedder_learn_dim(e, c.text[0], c.len[0], err)) != 0) {
				if (rc == FIDX_EAPI)
					fidx_err_prefix(err, "%s:%llu", name, (unsigned long long)c.line[0]);
				break;
			}
			dim = fidx_embedder_dim(e);
			if (!(vec = malloc(c.cap * dim * sizeof *vec))) {
				rc = fidx_err_nomem(err);
				break;
			}
			if (r->o->save_embeddings && (rc = csv_line(r, NULL, dim, err)) != 0)
				break;
			first = 0;
		}
		rc = fidx_embedder_embed(e, (const char *const *)c.text, c.len, c.n, vec, &bad, err);
		if (rc == FIDX_EINPUT && err && err->detail == FIDX_DETAIL_NO_WORDS) {
			fidx_err_set(err, rc, "%s:%llu: the text has no words to embed (it is empty or only punctuation)",
			             name, (unsigned long long)c.line[bad < c.n ? bad : 0]);
			break;
		}
		if (rc && bad < c.n) {
			fidx_err_prefix(err, "%s:%llu", name, (unsigned long long)c.line[bad]);
			break;
		}
		if (rc) {
			fidx_err_prefix(err, "%s (lines %llu to %llu)", name, (unsigned long long)c.line[0],
			                (unsigned long long)c.line[c.n - 1]);
			break;
		}
		for (i = 0; i < c.n && !rc; i++) {
			rc = add_row(r, vec + i * dim, dim, NULL, 0, c.text[i], c.len[i], name, c.line[i], err);
			if (!rc && r->o->save_embeddings)
				rc = csv_line(r, vec + i * dim, dim, err);
		}
		if (rc)
			break;
	}
	free(vec);
	chunk_free(&c);
	return rc;
}

/* The number of texts --texts holds, read once ahead for the progress line. */
static int count_texts(const struct fidx_ingest_opts *o, size_t *n, struct fidx_err *err)
{
	struct fidx_texts *t;
	const char *p;
	size_t len;
	uint64_t line;
	int rc;

	*n = 0;
	if ((rc = fidx_texts_open(&t, o->texts, o->texts_column, err)) != 0)
		return rc;
	while ((rc = fidx_texts_next(t, &p, &len, &line, err)) == 1)
		(*n)++;
	fidx_texts_close(t);
	return rc;
}

/* Whether a and b name the same existing file. */
static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return strcmp(a, "-") != 0 && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Whether a planned file still holds what source s recorded: the same
 * size and time (a stat), or else the same SHA-256 (read at disk speed,
 * never parsed). */
static int source_same(const struct fidx_plan_file *f, const struct fidx_meta_source *s)
{
	const char *path = f->path;
	struct fidx_sha256 h;
	unsigned char d[32], buf[1 << 16];
	uint64_t bytes = 0;
	ssize_t got;
	char hex[65];
	int fd;

	if (strcmp(f->name, s->path) != 0 || f->size != s->bytes || !s->sha256[0])
		return 0;
	if (s->mtime_s && f->mtime_s == s->mtime_s && f->mtime_ns == s->mtime_ns)
		return 1;
	/* The digest covers the stored bytes, as when the index was built. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	fidx_sha256_init(&h);
	while ((got = read(fd, buf, sizeof buf)) > 0 || (got < 0 && errno == EINTR))
		if (got > 0) {
			fidx_sha256_update(&h, buf, (size_t)got);
			bytes += (uint64_t)got;
		}
	close(fd);
	fidx_sha256_final(&h, d);
	fidx_sha256_hex(d, hex);
	return got == 0 && bytes == s->bytes && strcmp(hex, s->sha256) == 0;
}

static struct fidx_plan_opts plan_opts(const struct fidx_ingest_opts *o, int texts)
{
	struct fidx_plan_opts po;
	memset(&po, 0, sizeof po);
	po.inputs = o->inputs;
	po.ninputs = o->ninputs;
	po.texts = texts ? o->texts : NULL;
	po.config = o->config;
	po.split = o->split;
	po.read = &o->read;
	po.hub = o->hub;
	return po;
}

/* The plan's Hub figures into st, then the plan freed. */
static void plan_done(struct fidx_plan *p, struct fidx_ingest_stats *st)
{
	st->hub = fidx_plan_hub_stats(p);
	fidx_plan_free(p);
}

int fidx_ingest_plan(const struct fidx_ingest_opts *o, struct fidx_plan *p, struct fidx_err *err)
{
	struct fidx_plan_opts po = plan_opts(o, 0);
	size_t i;
	int rc;
	if (!o->ninputs) {
		memset(p, 0, sizeof *p);
		return fidx_err_set(err, FIDX_EINPUT, "no inputs to list");
	}
	if ((rc = fidx_plan_begin(&po, p, err)) != 0)
		return rc;
	if ((rc = fidx_plan_finish(p, &po, 0, err)) != 0) {
		fidx_plan_free(p);
		return rc;
	}
	for (i = 0; i < p->n; i++)
		if (strcmp(p->files[i].path, "-") == 0) {
			fidx_plan_free(p);
			return fidx_err_set(err, FIDX_EINPUT, "-: standard input is not a file to list");
		}
	return 0;
}

/* 1 when o->out exists and a build of the plan would give it again (same
 * recipe, same sources), else 0. The plan may be begun only: an hf://
 * input's pending entry (hf://datasets/REPO@COMMIT) stands for the run of
 * recorded sources named hf://datasets/REPO@COMMIT/..., at least one: its
 * files are what the same recipe chose at the same commit. */
static int up_to_date(const struct fidx_ingest_opts *o, const struct fidx_plan *plan, size_t *nsources)
{
	struct fidx_file *f = NULL;
	struct fidx_meta m;
	size_t i;
	int same = 0;

	*nsources = 0;
	if (plan->stdin_used || access(o->out, F_OK) != 0)
		return 0;
	/* A target that cannot be read is rebuilt, not trusted. */
	if (fidx_file_open(&f, o->out, NULL) != 0 || fidx_meta_read(f, &m, NULL) != 0) {
		fidx_file_close(f);
		return 0;
	}
	fidx_file_close(f);
	if (o->recipe && m.recipe && strcmp(m.recipe, o->recipe) == 0) {
		size_t j = 0;
		same = 1;
		for (i = 0; same && i < plan->n; i++) {
			const struct fidx_plan_file *pf = &plan->files[i];
			if (pf->pending) {
				size_t k = strlen(pf->name), run = 0;
				while (j < m.nsources && strncmp(m.sources[j].path, pf->name, k) == 0 &&
				       m.sources[j].path[k] == '/')
					j++, run++;
				same = run > 0;
			} else {
				same = j < m.nsources && source_same(pf, &m.sources[j++]);
			}
		}
		same = same && j == m.nsources;
	}
	*nsources = m.nsources;
	fidx_meta_free(&m);
	return same;
}

int fidx_ingest(const struct fidx_ingest_opts *o, struct fidx_ingest_stats *st,
                struct fidx_err *err)
{
	struct fidx_plan plan;
	struct fidx_plan_opts po;
	struct fidx_builder_opts bo = {.out = o->out, .level = o->level, .flags = o->flags};
	struct run r;
	struct fidx_embed_config spec = o->embed;
	struct fidx_embedder *e = NULL;
	size_t i;
	int rc;

	memset(st, 0, sizeof *st);
	memset(&r, 0, sizeof r);
	r.o = o;
	r.st = st;
	r.csv.fd = -1;
	if (o->save_embeddings && (o->ninputs || !o->texts))
		return fidx_err_set(err, FIDX_EINPUT, FIDX_SETTING("save_embeddings") " works when texts are embedded (" FIDX_SETTING("texts") " without inputs)");
	if (!o->ninputs && !o->texts)
		return fidx_err_set(err, FIDX_EINPUT, "nothing to index: give input files or " FIDX_SETTING("texts"));
	if (o->texts && o->read.text_column)
		return fidx_err_set(err, FIDX_EINPUT, "texts come either from " FIDX_SETTING("texts") " or from " FIDX_SETTING("text_column") ", not both");
	if (!o->ninputs && (o->read.id_column || o->read.text_column || o->read.embedding_column))
		return fidx_err_set(err, FIDX_EINPUT, "column options need input files");
	po = plan_opts(o, 1);
	if ((rc = fidx_plan_begin(&po, &plan, err)) != 0)
		return rc;
	if (o->if_changed && up_to_date(o, &plan, &i)) {
		st->skipped = 1;
		st->files = i;
		plan_done(&plan, st);
		return 0;
	}
	if ((rc = fidx_plan_finish(&plan, &po, 1, err)) != 0) {
		plan_done(&plan, st);
		return rc;
	}
	for (i = 0; i < plan.n; i++)
		if (same_file(plan.files[i].path, o->out)) {
			plan_done(&plan, st);
			return fidx_err_set(err, FIDX_EINPUT, "%s is an input: fidx does not write over its inputs", o->out);
		}
	for (i = 0; i < plan.ninputs; i++)
		r.bytes_total += plan.files[i].size;
	r.plan = &plan;
	if (!o->ninputs && !spec.name)
		spec.name = FIDX_HASH_EMBEDDER;
	if (!o->ninputs && spec.progress && strcmp(o->texts, "-") != 0 &&
	    (rc = count_texts(o, &spec.expected, err)) != 0) {
		plan_done(&plan, st);
		return rc;
	}
	if (spec.name) {
		/* Validates the spec and settles the model, URL and protocol,
		 * whether it embeds (texts) or only says how vectors were made. */
		if ((rc = fidx_embedder_open(&e, &spec, err)) != 0) {
			plan_done(&plan, st);
			return rc;
		}
		bo.embedder = fidx_embedder_name(e);
		bo.identity = fidx_embedder_identity(e);
	}
	rc = fidx_builder_open(&r.b, &bo, err);
	if (rc == 0 && (rc = fidx_meta_set(&fidx_builder_meta(r.b)->recipe, o->recipe, err)) != 0)
		fidx_builder_abort(r.b);
	if (rc) {
		fidx_embedder_close(e);
		plan_done(&plan, st);
		return rc;
	}
	if (o->texts && (rc = fidx_texts_open(&r.texts, o->texts, o->texts_column, err)) != 0)
		goto fail;
	if (o->save_embeddings &&
	    (rc = fidx_outfile_open(&r.csv, o->save_embeddings, o->flags & ~FIDX_OUT_KEEP(127), err)) != 0)
		goto fail;
	/* The builder holds the target's lock: the index read here is the one
	 * this build replaces. */
	if (o->update && (rc = open_update(&r, err)) != 0)
		goto fail;
	if (!o->ninputs) {
		rc = ingest_texts(&r, e, err);
		if (e && fidx_embedder_stats(e))
			st->api = *fidx_embedder_stats(e);
	} else {
		for (i = 0; rc == 0 && i < plan.ninputs; i++)
			rc = ingest_file(&r, &plan.files[i], err);
		if (rc == 0 && e && fidx_embedder_dim(e) && fidx_embedder_dim(e) != fidx_builder_meta(r.b)->dim)
			rc = fidx_err_set(err, FIDX_EINPUT, "the inputs have %u dimensions, the %s embedder gives %zu",
			                  fidx_builder_meta(r.b)->dim, fidx_embedder_name(e), fidx_embedder_dim(e));
	}
	if (rc)
		goto fail;
	if (r.texts) {
		const char *t;
		size_t len;
		uint64_t line;
		if (o->ninputs) {
			rc = fidx_texts_next(r.texts, &t, &len, &line, err);
			if (rc < 0)
				goto fail;
			if (rc == 1) {
				rc = fidx_err_set(err, FIDX_EINPUT, "%s has more texts than the inputs have rows (%llu)",
				                  o->texts, (unsigned long long)fidx_builder_count(r.b));
				goto fail;
			}
		}
		if ((rc = add_source(&r, fidx_texts_source(r.texts), NULL, r.texts_seen, err)) != 0)
			goto fail;
		st->files++;
	}
	if (r.old && (rc = finish_update(&r, err)) != 0)
		goto fail;
	if (o->update && !r.old)
		st->added = fidx_builder_count(r.b);
	st->rows = fidx_builder_count(r.b);
	fidx_texts_close(r.texts);
	update_free(&r);
	rc = fidx_builder_commit(r.b, err);
	fidx_embedder_close(e);
	plan_done(&plan, st);
	if (rc) {
		st->rows = 0;
		fidx_outfile_abort(&r.csv);
		return rc;
	}
	if (o->save_embeddings)
		return fidx_outfile_commit(&r.csv, err);
	return 0;
fail:
	fidx_texts_close(r.texts);
	update_free(&r);
	fidx_builder_abort(r.b);
	fidx_embedder_close(e);
	fidx_outfile_abort(&r.csv);
	plan_done(&plan, st);
	return rc;
}
