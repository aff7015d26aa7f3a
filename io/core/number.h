/* Numbers in text, both ways: exact, locale-independent float parsing and
 * shortest round-trip formatting.
 *
 * fidx_parse_float gives exactly the float that strtof gives in the "C"
 * locale for the decimal grammar
 *     [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?
 * with optional ASCII spaces around it, and rejects everything else:
 * nan, inf, hex floats, an empty field, junk after the number, and values
 * that overflow float. Values that underflow give (signed) zero or a
 * subnormal, as strtof does.
 */
#ifndef FIDX_IO_NUMBER_H
#define FIDX_IO_NUMBER_H

#include <stddef.h>
#include <stdint.h>

enum fidx_num_status {
	FIDX_NUM_OK = 0,
	FIDX_NUM_EMPTY = -1,     /* nothing but spaces */
	FIDX_NUM_SYNTAX = -2,    /* not a decimal number */
	FIDX_NUM_NONFINITE = -3, /* nan or inf spelled out */
	FIDX_NUM_HEX = -4,       /* a hexadecimal float */
	FIDX_NUM_RANGE = -5,     /* overflows the type */
};

/* Parses s[0..n) as a float. Returns FIDX_NUM_OK and sets *out, or a
 * negative fidx_num_status. s need not be NUL-terminated. */
int fidx_parse_float(const char *s, size_t n, float *out);

/* Parses the number at the start of s[0..n) (no leading spaces) and sets
 * *used to its length; the caller decides what may follow it. The same
 * values and statuses as fidx_parse_float. */
int fidx_parse_float_prefix(const char *s, size_t n, float *out, size_t *used);

/* A short phrase for a status, e.g. "not a finite number". */
const char *fidx_num_status_str(int status);

/* Parses s[0..n) as a canonical decimal int64: optional '-', no '+', no
 * leading zeros (except "0" itself), no spaces, within range. Returns 1 and
 * sets *out when it is one, 0 otherwise. */
int fidx_parse_canonical_i64(const char *s, size_t n, int64_t *out);

/* Writes the shortest decimal that reads back as exactly v, laid out as
 * Python's repr does ("0.75653076171875", "1e-05", "100.0", "1e+16"),
 * NUL-terminated, into out[0..32). v must be finite. Returns the length. */
int fidx_format_double(double v, char out[32]);

/* strtod in the "C" locale, whatever the program's locale: for callers
 * that have checked the syntax themselves. */
double fidx_strtod_c(const char *s, char **end);

/* The shortest decimal that reads back (with strtof) as exactly v, in
 * out[0..24): "0.1", "-0.02388945", "1e-05". v must be finite. Returns the
 * length. */
int fidx_format_float(float v, char out[24]);

/* One line of the CSV pandas writes for DataFrame(embeddings).to_csv(path,
 * index=False): dim shortest round-trip floats separated by commas, or
 * with vec NULL the header "0,1,...,dim-1"; then "\n". out must hold
 * FIDX_CSV_LINE_MAX(dim) bytes. Returns the length. */
#define FIDX_CSV_LINE_MAX(dim) ((dim) * 24 + 2)
size_t fidx_format_csv_line(const float *vec, size_t dim, char *out);

#endif
