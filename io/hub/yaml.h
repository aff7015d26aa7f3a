/* A small YAML-subset parser producing a cJSON tree, for the front matter
 * of dataset cards (README.md) and similar hand-written configuration.
 *
 * Supported:
 *   - block mappings ("key: value", "key:" followed by an indented block)
 *     and block sequences ("- item", "- key: v" opening a mapping inside
 *     the item, "- - x" nesting, and a sequence written at the same
 *     indentation as its parent key: "configs:\n- config_name: x");
 *   - flow sequences "[a, 'b', \"c\"]" and flow mappings "{a: 1, b: [x]}",
 *     nested, written on one line;
 *   - plain scalars, possibly continued on more-indented lines (folded
 *     with one space, or one "\n" per blank line in between);
 *   - single-quoted scalars ('' is a quote) and double-quoted scalars with
 *     the YAML escapes (\\ \" \/ \a \b \t \n \v \f \r \e \space \N \_ \L \P
 *     \xXX \uXXXX \UXXXXXXXX), on one line;
 *   - comments ("#" at the start of a line or after whitespace), blank
 *     lines, \n, \r\n and \r line ends, a leading UTF-8 byte order mark, an
 *     optional "---" first line and an optional final "..." line.
 *
 * Values become cJSON items like this:
 *   - mappings are objects (keys in document order; a duplicate key is an
 *     error), sequences are arrays;
 *   - the plain scalars true/True/TRUE and false/False/FALSE are bools;
 *     null/Null/NULL/~ and a missing value ("key:" with nothing under it)
 *     are cJSON nulls; an empty document is a cJSON null;
 *   - every other scalar is a string, numbers included ("3", "1e5", "0x1f"
 *     stay strings; callers convert what they need). Quoted scalars are
 *     always strings ("true" in quotes is the string true). YAML 1.1
 *     words such as yes/no/on/off are strings.
 *   - every item's valueint holds the line (from 1) where its node starts,
 *     for callers' error messages; cJSON ignores valueint for these types.
 *
 * Rejected with FIDX_EINPUT and "name:LINE: message": anchors (&), aliases
 * (*), tags (!), block scalars (| and >), complex keys ("? "), directives
 * (%), several documents, tabs used for indentation, quoted scalars and
 * flow collections spanning lines, NUL and other control bytes (except
 * tab), a \0 escape, nesting deeper than FIDX_YAML_MAX_DEPTH and input
 * longer than FIDX_YAML_MAX_SIZE bytes. Bytes >= 0x80 are passed through
 * unchecked (no UTF-8 validation).
 */
#ifndef FIDX_IO_YAML_H
#define FIDX_IO_YAML_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "error.h"

/* Deepest nesting of collections accepted (block and flow together). */
#define FIDX_YAML_MAX_DEPTH 64
/* Longest input accepted, in bytes. */
#define FIDX_YAML_MAX_SIZE (16u << 20)

/* Parses text[0..n) (need not be NUL-terminated). name (NULL: "<yaml>") is
 * used in error messages. On success sets *out to a new tree the caller
 * frees with cJSON_Delete and returns 0; otherwise sets *out to NULL and
 * returns a negative fidx_code with err filled. */
int fidx_yaml_parse(const char *name, const char *text, size_t n, cJSON **out,
                    struct fidx_err *err);

#endif
