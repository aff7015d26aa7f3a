#include "export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <faiss/c_api/faiss_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/index_io_c.h>
#include <faiss/c_api/error_c.h>

#include "index.h"
#include "jsonout.h"
#include "meta.h"
#include "number.h"
#include "outfile.h"

/* A stdio stream over an output file's descriptor (a duplicate: closing
 * the stream leaves the descriptor to fidx_outfile_commit). */
static FILE *stream(struct fidx_outfile *out, const char *name, struct fidx_err *err)
{
	int fd = dup(out->fd);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!f) {
		fidx_err_sys(err, FIDX_EIO, errno, "%s", name);
		if (fd >= 0)
			close(fd);
	}
	return f;
}

/* Flushes and closes f; an error is the file's. */
static int close_stream(FILE *f, const char *name, struct fidx_err *err)
{
	int bad = ferror(f) || fflush(f) != 0;
	int e = errno;
	if (fclose(f) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	return bad ? fidx_err_sys(err, FIDX_EIO, e ? e : EIO, "%s: cannot write", name) : 0;
}

static int write_npy(FILE *f, const struct fidx_index *ix)
{
	uint64_t n = fidx_index_count(ix);
	uint32_t d = fidx_index_dim(ix);
	char head[128];
	int len = snprintf(head, sizeof head, "{'descr': '<f4', 'fortran_order': False, 'shape': (%llu, %u), }",
	                   (unsigned long long)n, d);
	/* Version 1.0: magic, version, a little-endian u16 header length, the
	 * header padded with spaces and ended by a newline to a multiple of 64. */
	size_t total = ((size_t)10 + (size_t)len + 1 + 63) / 64 * 64;
	unsigned hlen = (unsigned)(total - 10);
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
	                         (unsigned char)(hlen >> 8)};
	fwrite(pre, 1, sizeof pre, f);
	fwrite(head, 1, (size_t)len, f);
	while ((size_t)len + 1 < hlen) {
		putc(' ', f);
		len++;
	}
	putc('\n', f);
	/* float32 little-endian, as this machine stores it. */
	for (uint64_t r = 0; r < n; r++)
		fwrite(fidx_index_vector(ix, r), sizeof(float), d, f);
	return 0;
}

static int write_csv(FILE *f, const struct fidx_index *ix, struct fidx_err *err)
{
	uint64_t n = fidx_index_count(ix), r;
	uint32_t d = fidx_index_dim(ix);
	char *line = malloc(FIDX_CSV_LINE_MAX((size_t)d));
	if (!line)
		return fidx_err_nomem(err);
	fwrite(line, 1, fidx_format_csv_line(NULL, d, line), f);
	for (r = 0; r < n; r++)
		fwrite(line, 1, fidx_format_csv_line(fidx_index_vector(ix, r), d, line), f);
	free(line);
	return 0;
}

/* A CSV field, quoted when it must be. */
static int put_field(FILE *f, const char *s, size_t n, uint64_t row, const char *what, struct fidx_err *err)
{
	size_t i;
	if (memchr(s, '\0', n))
		return fidx_err_set(err, FIDX_EINPUT, "row %llu: the %s has a NUL byte, which a CSV file cannot hold",
		                    (unsigned long long)row, what);
	putc(',', f);
	if (!n || (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) && !memchr(s, '\r', n))) {
		fwrite(s, 1, n, f);
		return 0;
	}
	putc('"', f);
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			putc('"', f);
		putc(s[i], f);
	}
	putc('"', f);
	return 0;
}

int fidx_export_hub_csv(const struct fidx_index *ix, FILE *f, struct fidx_err *err)
{
	const struct fidx_meta *m = fidx_index_meta(ix);
	uint64_t n = fidx_index_count(ix), r;
	uint32_t d = fidx_index_dim(ix);
	int ids = m->id_kind != FIDX_IDS_IMPLICIT, texts = m->has_texts, rc = 0;
	char *line = malloc(FIDX_CSV_LINE_MAX((size_t)d));
	size_t len;

	if (!line)
		return fidx_err_nomem(err);
	/* Each line as --csv writes it, its line break kept for last. */
	len = fidx_format_csv_line(NULL, d, line);
	fwrite(line, 1, len - 1, f);
	fputs(ids ? (texts ? ",id,text\n" : ",id\n") : texts ? ",text\n" : "\n", f);
	for (r = 0; rc == 0 && r < n; r++) {
		char buf[24];
		const char *s;
		size_t sl = 0;
		len = fidx_format_csv_line(fidx_index_vector(ix, r), d, line);
		fwrite(line, 1, len - 1, f);
		if (ids && (s = fidx_index_id(ix, r, buf, &sl)) != NULL)
			rc = put_field(f, s, sl, r, "id", err);
		if (rc == 0 && texts && (s = fidx_index_text(ix, r, &sl)) != NULL)
			rc = put_field(f, s, sl, r, "text", err);
		putc('\n', f);
	}
	free(line);
	return rc;
}

static int write_jsonl(FILE *f, const struct fidx_index *ix)
{
	const struct fidx_meta *m = fidx_index_meta(ix);
	uint64_t n = fidx_index_count(ix), r;
	for (r = 0; r < n; r++) {
		char buf[24];
		size_t len;
		const char *id = fidx_index_id(ix, r, buf, &len), *text;
		fputs("{\"id\": ", f);
		if (m->id_kind == FIDX_IDS_STRING)
			fidx_json_put_string(f, id, len);
		else
			fwrite(id, 1, len, f);
		if ((text = fidx_index_text(ix, r, &len)) != NULL) {
			fputs(", \"text\": ", f);
			fidx_json_put_string(f, text, len);
		}
		fputs("}\n", f);
	}
	return 0;
}

static int write_faiss(FILE *f, const struct fidx_index *ix, const char *name, struct fidx_err *err)
{
	enum { CHUNK = 4096 };
	FaissIndexFlatIP *flat = NULL;
	uint64_t n = fidx_index_count(ix), r = 0;
	size_t d = fidx_index_dim(ix), k;
	float *buf = malloc(CHUNK * d * sizeof *buf);
	int rc = 0, bad;

	if (!buf)
		return fidx_err_nomem(err);
	bad = faiss_IndexFlatIP_new_with(&flat, (idx_t)d) != 0;
	/* Rows are contiguous within a shard only: copy them in chunks. */
	while (!bad && r < n) {
		for (k = 0; k < CHUNK && r < n; k++, r++)
			memcpy(buf + k * d, fidx_index_vector(ix, r), d * sizeof *buf);
		bad = faiss_Index_add(flat, (idx_t)k, buf) != 0;
	}
	free(buf);
	if (bad || faiss_write_index(flat, f)) {
		const char *m = faiss_get_last_error();
		rc = fidx_err_set(err, FIDX_EIO, "%s: FAISS could not write the index%s%s", name, m ? ": " : "",
		                  m ? m : "");
	}
	if (flat)
		faiss_Index_free(flat);
	return rc;
}

int fidx_export(const struct fidx_export_opts *o, struct fidx_export_stats *st, struct fidx_err *err)
{
	enum { FAISS, NPY, CSV, JSONL, N };
	const char *path[N] = {o->faiss, o->npy, o->csv, o->jsonl};
	struct fidx_outfile out[N];
	struct fidx_index *ix = NULL;
	int rc = 0, i, opened = 0;

	memset(st, 0, sizeof *st);
	memset(out, 0, sizeof out);
	for (i = 0; i < N; i++)
		out[i].fd = out[i].lock_fd = -1, out[i].slot = -1;
	for (i = 0; i < N; i++)
		if (path[i] && strcmp(path[i], o->index) == 0)
			return fidx_err_set(err, FIDX_EINPUT, "%s: an export must not write over the index it reads",
			                    path[i]);
	if ((rc = fidx_index_load(&ix, o->index, err)) != 0)
		return rc;
	for (i = 0; rc == 0 && i < N; i++) {
		FILE *f;
		if (!path[i])
			continue;
		if ((rc = fidx_outfile_open(&out[i], path[i], o->flags & ~FIDX_OUT_KEEP(127), err)) != 0)
			break;
		opened |= 1 << i;
		if (!(f = stream(&out[i], path[i], err))) {
			rc = FIDX_EIO;
			break;
		}
		switch (i) {
		case FAISS: rc = write_faiss(f, ix, path[i], err); break;
		case NPY: rc = write_npy(f, ix); break;
		case CSV: rc = write_csv(f, ix, err); break;
		default: rc = write_jsonl(f, ix); break;
		}
		if (rc)
			fclose(f);
		else
			rc = close_stream(f, path[i], err);
		st->outputs++;
	}
	/* All written: publish them. */
	for (i = 0; rc == 0 && i < N; i++)
		if (opened & (1 << i)) {
			rc = fidx_outfile_commit(&out[i], err);
			opened &= ~(1 << i);
		}
	for (i = 0; i < N; i++)
		if (opened & (1 << i))
			fidx_outfile_abort(&out[i]);
	st->rows = fidx_index_count(ix);
	st->dim = fidx_index_dim(ix);
	fidx_index_free(ix);
	return rc;
}
