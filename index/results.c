#include "results.h"

#include <string.h>

#include "index.h"
#include "jsonout.h"
#include "number.h"

static const char *const field_names[] = {"query", "rank", "index", "id", "score", "text"};
static const char *const json_keys[] = {"query", "rank", "index", "corpus_id", "score", "text"};
#define NFIELDS (sizeof field_names / sizeof *field_names)

int fidx_results_fields(struct fidx_results_style *st, const char *s, struct fidx_err *err)
{
	st->nfields = 0;
	while (*s) {
		size_t n = strcspn(s, ","), k;
		for (k = 0; k < NFIELDS; k++)
			if ((strlen(field_names[k]) == n && !strncmp(s, field_names[k], n)) ||
			    (k == FIDX_FIELD_ID && n == 9 && !strncmp(s, "corpus_id", 9)))
				break;
		if (k == NFIELDS || st->nfields == FIDX_RESULTS_MAX_FIELDS)
			return fidx_err_set(err, FIDX_EINPUT, "\"%.*s\" is not one of query, rank, index, id, score, text",
			                    (int)n, s);
		st->fields[st->nfields++] = (int)k;
		s += n;
		if (*s == ',')
			s++;
	}
	return st->nfields ? 0 : fidx_err_set(err, FIDX_EINPUT, "no field named");
}

/* Writes a text on one line: control characters become spaces. */
static void put_text_line(FILE *f, const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		putc((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i], f);
}

static void put_tsv_field(FILE *f, const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\t': fputs("\\t", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\\': fputs("\\\\", f); break;
		default: putc(s[i], f);
		}
	}
}

static void put_id(FILE *f, const struct fidx_collection *c, const struct fidx_result *r, int json)
{
	char buf[24];
	size_t len;
	const char *id = fidx_collection_id(c, r->index, r->row, buf, &len);
	if (json && fidx_collection_id_kind(c) == FIDX_IDS_STRING)
		fidx_json_put_string(f, id, len);
	else if (json)
		fprintf(f, "%lld", (long long)fidx_collection_id_int(c, r->index, r->row));
	else
		fwrite(id, 1, len, f);
}

/* One hit as a TSV line or a JSON object, with the fields chosen. */
static void put_hit(FILE *f, const struct fidx_results_style *st, const int *fields, size_t nfields,
                    const struct fidx_collection *c, const struct fidx_result *r, size_t q, size_t rank)
{
	size_t k, tlen;
	const char *text = fidx_index_text(fidx_collection_index(c, r->index), r->row, &tlen);
	int jsonl = st->format == FIDX_RESULTS_JSONL, first = 1;
	char num[32];

	if (jsonl)
		putc('{', f);
	for (k = 0; k < nfields; k++) {
		int fl = fields[k];
		if (jsonl && ((fl == FIDX_FIELD_TEXT && !text) || (fl == FIDX_FIELD_INDEX && !st->keep_apart)))
			continue;
		if (!first)
			fputs(jsonl ? ", " : "\t", f);
		first = 0;
		if (jsonl)
			fprintf(f, "\"%s\": ", json_keys[fl]);
		switch (fl) {
		case FIDX_FIELD_QUERY: fprintf(f, "%zu", jsonl ? q : q + 1); break;
		case FIDX_FIELD_RANK: fprintf(f, "%zu", rank + 1); break;
		case FIDX_FIELD_INDEX:
			if (jsonl)
				fprintf(f, "%zu", r->index);
			else if (st->keep_apart && st->index_names)
				fputs(st->index_names[r->index], f);
			break;
		case FIDX_FIELD_ID: put_id(f, c, r, jsonl); break;
		case FIDX_FIELD_SCORE:
			fidx_format_double(r->score, num);
			fputs(num, f);
			break;
		case FIDX_FIELD_TEXT:
			if (jsonl)
				fidx_json_put_string(f, text, tlen);
			else if (text)
				put_tsv_field(f, text, tlen);
			break;
		}
	}
	fputs(jsonl ? "}\n" : "\n", f);
}

/* The default fields: TSV leaves the index out unless indexes are kept
 * apart; JSON Lines leaves it out when it writes each hit. */
static size_t default_fields(const struct fidx_results_style *st, int *out)
{
	static const int tsv[] = {FIDX_FIELD_QUERY, FIDX_FIELD_RANK, FIDX_FIELD_INDEX,
	                          FIDX_FIELD_ID, FIDX_FIELD_SCORE, FIDX_FIELD_TEXT};
	static const int jsonl[] = {FIDX_FIELD_QUERY, FIDX_FIELD_RANK, FIDX_FIELD_ID,
	                            FIDX_FIELD_SCORE, FIDX_FIELD_INDEX, FIDX_FIELD_TEXT};
	size_t f, n = 0;
	for (f = 0; f < 6; f++)
		if (st->format == FIDX_RESULTS_JSONL || tsv[f] != FIDX_FIELD_INDEX || st->keep_apart)
			out[n++] = st->format == FIDX_RESULTS_JSONL ? jsonl[f] : tsv[f];
	return n;
}

void fidx_results_write(FILE *f, const struct fidx_results_style *st, const struct fidx_collection *c,
                        char *const *labels, size_t nq, const struct fidx_result *res, const size_t *counts,
                        size_t k)
{
	int fields[FIDX_RESULTS_MAX_FIELDS];
	size_t nfields = st->nfields, i, j;
	char num[32];

	if (nfields)
		memcpy(fields, st->fields, nfields * sizeof *fields);
	else
		nfields = default_fields(st, fields);
	if (st->format == FIDX_RESULTS_JSON)
		putc('[', f);
	for (i = 0; i < nq; i++) {
		const struct fidx_result *r = res + i * k;
		size_t idw = 2;
		if (st->format == FIDX_RESULTS_JSON) {
			fputs(i ? ",\n [" : "[", f);
			for (j = 0; j < counts[i]; j++) {
				fidx_format_double(r[j].score, num);
				fputs(j ? ", {\"corpus_id\": " : "{\"corpus_id\": ", f);
				put_id(f, c, &r[j], 1);
				fprintf(f, ", \"score\": %s", num);
				if (st->keep_apart)
					fprintf(f, ", \"index\": %zu", r[j].index);
				putc('}', f);
			}
			putc(']', f);
			continue;
		}
		if (st->format == FIDX_RESULTS_JSONL || st->format == FIDX_RESULTS_TSV) {
			for (j = 0; j < counts[i]; j++)
				put_hit(f, st, fields, nfields, c, &r[j], i, j);
			continue;
		}
		for (j = 0; j < counts[i]; j++) {
			char buf[24];
			size_t len;
			fidx_collection_id(c, r[j].index, r[j].row, buf, &len);
			if (len > idw)
				idw = len;
		}
		if (i)
			putc('\n', f);
		fputs("query: ", f);
		put_text_line(f, labels[i], strlen(labels[i]));
		fprintf(f, "\n%4s  %-*s  %6s  %s\n", "rank", (int)idw, "id", "score",
		        st->keep_apart ? "index  text" : "text");
		for (j = 0; j < counts[i]; j++) {
			char buf[24];
			size_t len, tlen;
			const char *id = fidx_collection_id(c, r[j].index, r[j].row, buf, &len);
			const char *text = fidx_index_text(fidx_collection_index(c, r[j].index), r[j].row, &tlen);
			fprintf(f, "%4zu  ", j + 1);
			put_text_line(f, id, len);
			fprintf(f, "%*s  %6.4f  ", (int)(idw - len), "", r[j].score);
			if (st->keep_apart)
				fprintf(f, "%-5zu  ", r[j].index);
			if (text)
				put_text_line(f, text, tlen);
			putc('\n', f);
		}
		if (!counts[i])
			fputs("(no hits)\n", f);
	}
	if (st->format == FIDX_RESULTS_JSON)
		fputs("]\n", f);
}
