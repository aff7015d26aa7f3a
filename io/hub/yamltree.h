/* YAML to a cJSON tree, typed as PyYAML's yaml.safe_load types it: the
 * front matter of dataset cards (README.md), which datasets and
 * huggingface_hub read with yaml.safe_load. libyaml parses (it is the C
 * parser PyYAML itself can use); this module turns its events into a tree
 * with SafeLoader's YAML 1.1 rules:
 *
 *   - plain scalars resolve as SafeLoader resolves them: null (~, null,
 *     Null, NULL, nothing), bool (yes/no, true/false, on/off, each in three
 *     casings), int (decimal, 0b binary, 0 octal, 0x hex, base 60 "1:30",
 *     '_' allowed), float (1.5, 1., .5, 1.0e+5, base 60, .inf, .nan),
 *     timestamp (2001-12-14, 2001-12-14 21:59:43.10 -5); the rest, and
 *     every quoted or block scalar, are strings ("1e5" and "0o17" are
 *     strings, as in PyYAML);
 *   - the tags !!str !!int !!float !!bool !!null !!timestamp !!binary
 *     !!seq !!map !!set !!omap !!pairs, and "!" (which resolves as a
 *     plain scalar would, as in PyYAML); any other tag is an error;
 *   - anchors and aliases (an alias is a copy of its anchor's node) and
 *     merge keys ("<<: *base" or a list of mappings: the mapping's own
 *     keys win, then the earlier merged mappings).
 *
 * Items: mappings are objects and sequences arrays, in document order;
 * null, true/false and strings are cJSON's; ints and floats are numbers
 * (valuedouble, rounded for ints beyond 2^53); timestamps and !!binary are
 * cJSON raw items; !!set is an array of its keys, !!omap and !!pairs
 * arrays of [key, value]. Every scalar item's valuestring holds the value
 * as Python's str() shows it ("31" for 0x1f, "1.0" for 1., "True",
 * "None", "2001-12-14"), binary data as base64; mapping keys are that
 * text. Every item's valueint holds the line (from 1) where its node
 * starts (for an alias, the alias's line), for callers' messages.
 *
 * Rejected with FIDX_EINPUT and "name:LINE:COLUMN: message": what PyYAML
 * rejects (syntax, undefined aliases, anchors defined twice, several
 * documents, tags and values SafeLoader cannot construct, keys that are
 * collections, characters YAML forbids, invalid UTF-8) and, where fidx is
 * stricter than PyYAML: duplicate keys (PyYAML keeps the last one; the Hub
 * refuses such cards and datasets' own card validator does too), a NUL
 * character in a string, an alias inside the node it names, decimal ints
 * of more than 4300 digits (as Python 3.11) and binary, octal, hex or base
 * 60 ints beyond 64 bits, nesting deeper than FIDX_YAML_MAX_DEPTH (aliases
 * expanded), more than FIDX_YAML_MAX_NODES nodes or FIDX_YAML_MAX_BYTES of
 * text (aliases expanded: "billion laughs" stops there), and input longer
 * than FIDX_YAML_MAX_SIZE. Keys are compared by their text: 1 and "1" are
 * one key (two for Python), yes and 1 two (one for Python). libyaml's
 * parser and PyYAML's own part in a few corners (tests/yaml/pyyaml_check.py
 * lists them); tabs, which PyYAML allows only in quotes, block scalars and
 * comments, are held to PyYAML's rule.
 */
#ifndef FIDX_IO_YAMLTREE_H
#define FIDX_IO_YAMLTREE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "error.h"

/* Deepest nesting of collections accepted. */
#define FIDX_YAML_MAX_DEPTH 64
/* Longest input accepted, in bytes. */
#define FIDX_YAML_MAX_SIZE (16u << 20)
/* Most nodes (scalars, collections and keys) in a tree, aliases expanded. */
#define FIDX_YAML_MAX_NODES (1u << 20)
/* Most bytes of scalar text and keys in a tree, aliases expanded. */
#define FIDX_YAML_MAX_BYTES (64u << 20)

/* Parses text[0..n) (need not be NUL-terminated) as one YAML document.
 * name (NULL: "<yaml>") is used in error messages. On success sets *out
 * to a new tree the caller frees with cJSON_Delete (a null item for an
 * empty document) and returns 0; otherwise sets *out to NULL and returns
 * a negative fidx_code with err filled. */
int fidx_yaml_parse(const char *name, const char *text, size_t n, cJSON **out,
                    struct fidx_err *err);

#endif
