/* hf:// URLs of Hub datasets, in huggingface_hub's syntax (HfFileSystem,
 * parse_hf_uri):
 *
 *   hf://datasets/OWNER/NAME[@REVISION][/PATH]
 *
 *   - OWNER and NAME: letters, digits, '-', '_', '.', starting and ending
 *     with a letter, digit or '_', no "--" or "..", not ending in ".git",
 *     at most 96 bytes each (huggingface_hub's validate_repo_id);
 *   - '@' counts as the revision's mark only right after OWNER/NAME (an '@'
 *     further on is part of PATH). The revision runs to the next '/',
 *     except refs/convert/NAME and refs/pr/N, taken with their slashes;
 *     then it is percent-decoded, so other branch names with a '/' are
 *     written with %2F (feature%2Fx). An empty revision is an error;
 *   - PATH, inside the repository: a file, a folder or a glob ('*', '?',
 *     '[...]', "**"). It is taken as written (not percent-decoded), without
 *     slashes at either end, and must not have an empty, "." or ".."
 *     component or a control character.
 *
 * Other repository types (models, spaces) are refused: fidx reads
 * datasets. */
#ifndef FIDX_IO_HUB_URI_H
#define FIDX_IO_HUB_URI_H

#include "error.h"

#define FIDX_HF_SCHEME "hf://"

struct fidx_hf_uri {
	char repo[200];   /* "OWNER/NAME" */
	char *revision;   /* decoded; NULL: the default branch */
	char *path;       /* "" for the whole repository */
};

/* Whether s is meant as an hf:// URL (it starts with "hf://"). */
int fidx_hf_is_uri(const char *s);

/* Parses s into u. FIDX_EINPUT with a message saying what is wrong and
 * what is expected; FIDX_ENOMEM. Free u with fidx_hf_uri_free. */
int fidx_hf_uri_parse(const char *s, struct fidx_hf_uri *u, struct fidx_err *err);
void fidx_hf_uri_free(struct fidx_hf_uri *u);

/* Whether path (inside a repository) has glob characters. */
int fidx_hf_is_glob(const char *path);

/* "hf://datasets/REPO[@REVISION][/PATH]" as a new string (NULL when out of
 * memory), the revision written as huggingface_hub writes it: refs/pr/N
 * and refs/convert/NAME as they are, any other '/' and '%' encoded. */
char *fidx_hf_uri_format(const char *repo, const char *revision, const char *path);

/* s percent-encoded as Python's urllib.parse.quote does (letters, digits
 * and "_.-~" kept, and '/' when keep_slash), as a new string or NULL: how
 * huggingface_hub puts a revision (keep_slash 0) or a path (1) in a URL. */
char *fidx_hf_quote(const char *s, int keep_slash);

#endif
