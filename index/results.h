/* Writing search results for people and programs: the table, JSON shaped
 * like sentence_transformers.util.semantic_search, JSON Lines and TSV.
 * What fidx search prints, for any front end (a command, a server). */
#ifndef FIDX_INDEX_RESULTS_H
#define FIDX_INDEX_RESULTS_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "search.h"

enum fidx_results_format {
	FIDX_RESULTS_TABLE, /* per query: a header, then rank, id, score (4 decimals), text */
	FIDX_RESULTS_JSON,  /* [[{"corpus_id": id, "score": s}, ...], ...] */
	FIDX_RESULTS_JSONL, /* one object per hit */
	FIDX_RESULTS_TSV,   /* one line per hit */
};

/* The fields of JSON Lines and TSV lines. */
enum fidx_results_field { FIDX_FIELD_QUERY, FIDX_FIELD_RANK, FIDX_FIELD_INDEX, FIDX_FIELD_ID,
                          FIDX_FIELD_SCORE, FIDX_FIELD_TEXT };
#define FIDX_RESULTS_MAX_FIELDS 16

struct fidx_results_style {
	int format;              /* enum fidx_results_format */
	int fields[FIDX_RESULTS_MAX_FIELDS];
	size_t nfields;          /* 0: the format's default fields */
	int keep_apart;          /* several indexes kept apart: say which one each hit is from */
	const char *const *index_names; /* the indexes' names, for TSV's index field */
};

/* Parses a list of field names (query, rank, index, id or corpus_id,
 * score, text) separated by commas into s->fields. FIDX_EINPUT names what
 * is wrong. */
int fidx_results_fields(struct fidx_results_style *s, const char *list, struct fidx_err *err);

/* Writes the results of nq queries: counts[q] hits at res[q * k ...],
 * labels[q] naming each query in the table. */
void fidx_results_write(FILE *out, const struct fidx_results_style *s, const struct fidx_collection *c,
                        char *const *labels, size_t nq, const struct fidx_result *res, const size_t *counts,
                        size_t k);

#endif
