/* Choosing a Hugging Face Hub dataset's data files for a config and a
 * split, the way datasets.load_dataset picks them, from its card
 * (README.md) and its files. Where the files live is a source's business
 * (struct fidx_hub_source: a folder here, a Hub repo elsewhere); the choice
 * itself (fidx_hub_choose) only asks the source for listings and the card.
 *
 * The YAML front matter of README.md (between its "---" lines) is read
 * whole, as huggingface_hub reads it for datasets (yaml.safe_load: see
 * yamltree.h): YAML it cannot read is an error even outside "configs",
 * and so is a front matter that is not a mapping. Values are typed as
 * YAML 1.1 types them: a config_name must be a string (2021 is an int),
 * "default" counts when true in Python's sense (true, yes, 1), and split
 * names are the values' text as Python's str() gives it ("2021", "True"),
 * as datasets does.
 *
 * With a "configs" list (a false value, such as an empty list, is none):
 *   - the config is the one named config; with config NULL it is the one
 *     with "default: true" (several are an error), else the one named
 *     "default", else the only config when there is just one;
 *   - data_files is a pattern or a list of patterns (split "train"), a list
 *     of {split, path} with path a pattern or a list of patterns, or a
 *     mapping split -> pattern(s); without data_files, the files are
 *     inferred as below inside data_dir (or the folder);
 *   - patterns are globs relative to the folder, or to data_dir when the
 *     config has one: '*', '?' and '[...]' ('[!...]' negated) do not
 *     match '/', "**" as a whole path component matches any number of
 *     folders (none included), "**" inside a component matches anything,
 *     '/' included. Each pattern's matches are sorted by path, patterns
 *     are taken in order, and a file matched twice is listed once. Only
 *     the requested split's patterns are resolved; one that matches
 *     nothing is an error.
 *
 * Without YAML configs, a folder whose data files all follow the layout of
 * the Hub's refs/convert/parquet branch, CONFIG/SPLIT/NNNN.parquet, has its
 * first-level folders as configs (config, else "default", else the only
 * one) and SPLIT (or "partial-" SPLIT) as the split's folder; when config
 * is NULL and that config has no such split, inference below decides.
 *
 * Otherwise the split's files are inferred from the names of
 * all the files under the folder, in this order, the first group with any
 * match deciding:
 *   1. data/{split}-NNNNN-of-NNNNN*.* (five digits each, any split name
 *      made of letters, digits, '_' and '.');
 *   2. a folder whose name contains a split keyword;
 *   3. a file whose name contains a split keyword;
 *   4. every file is in split "train".
 * Keywords: train, training (split "train"); validation, valid, dev, val
 * ("validation"); test, testing, eval, evaluation ("test"). A keyword
 * counts when preceded by the start of the name or one of "-._ 0-9", and
 * followed by one of those (files and folders) or the end of the name
 * (folders only). A file in several splits goes to the first of train,
 * validation, test. Within a split, files come in the order of the
 * patterns datasets uses (keyword by keyword), each sorted by path.
 *
 * Always skipped: files named README.md, config.json, dataset_info.json,
 * dataset_infos.json or dataset_dict.json (unless a YAML pattern names
 * one explicitly as its last component), hidden files and folders (name
 * starting with '.'), folders whose name starts with "__", symbolic links
 * to folders (never followed) and anything not a regular file. No file is
 * filtered by its extension.
 */
#ifndef FIDX_IO_HUB_H
#define FIDX_IO_HUB_H

#include <stddef.h>

#include "error.h"

struct fidx_hub_files {
	char **paths;
	size_t n;
};

/* Where a dataset's files are. */
struct fidx_hub_source {
	const char *name; /* the dataset's root in messages: a folder, or an hf:// URL */
	void *ctx;
	/* The files under dir ("": the root; no trailing slash), as paths
	 * relative to dir, sorted bytewise: hidden files and folders, folders
	 * named "__*" and what is not a file skipped at every level. A dir that
	 * is not a folder is FIDX_EINPUT "<name>/<dir>: no such folder". The
	 * caller frees the paths and the array. */
	int (*list)(void *ctx, const char *dir, char ***paths, size_t *n, struct fidx_err *err);
	/* README.md's first max bytes, *full cleared when it is longer; *text
	 * NULL when there is none. The caller frees *text. */
	int (*card)(void *ctx, size_t max, char **text, size_t *len, int *full, struct fidx_err *err);
	void (*close)(void *ctx);
};

/* A folder on this machine as a source (io/hub/folder.c): links to files
 * inside it are followed, links leaving it are refused, links to folders
 * are not followed. FIDX_EINPUT when folder is not one. Close with
 * s->close(s->ctx). */
int fidx_hub_folder_open(struct fidx_hub_source *s, const char *folder, struct fidx_err *err);

/* A dataset card, as a source's card() gives it: up to max bytes of the file
 * at path into *data (not terminated), *n of them; *data is NULL when there
 * is no such regular file; *full is cleared when the file is longer. */
int fidx_hub_read_card(const char *path, size_t max, char **data, size_t *n, int *full, struct fidx_err *err);

/* Fills out with the data files, as paths relative to the source's root,
 * of split (NULL: "train") in config (NULL: the default config). Returns
 * 0, or a negative fidx_code with err filled and out empty: FIDX_EINPUT for
 * bad YAML ("<name>/README.md:LINE:COLUMN: ..."), an unknown config or split (the
 * message lists the available ones), a pattern matching no file or no data
 * files; FIDX_EIO when listing fails; FIDX_ENOMEM. The card is read once. */
int fidx_hub_choose(const struct fidx_hub_source *src, const char *config, const char *split,
                    struct fidx_hub_files *out, struct fidx_err *err);

/* fidx_hub_choose over a folder, the paths joined to the folder (trailing
 * slashes of folder dropped). */
int fidx_hub_resolve(const char *folder, const char *config, const char *split,
                     struct fidx_hub_files *out, struct fidx_err *err);

/* Sets match[i] to whether paths[i] matches pattern, a glob of the kind
 * data_files patterns are (above), for i in 0..n. 0, or FIDX_ENOMEM. */
int fidx_hub_match(const char *pattern, const char *const *paths, size_t n, unsigned char *match,
                   struct fidx_err *err);

/* Frees the paths and empties f. Safe on an empty or freed f. */
void fidx_hub_files_free(struct fidx_hub_files *f);

#endif
