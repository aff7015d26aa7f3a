/* Resolving a Hugging Face Hub-style dataset folder into its data files,
 * the way datasets.load_dataset(folder) picks them.
 *
 * With a "configs" list in the YAML front matter of README.md (only that
 * top-level key is read; the rest of the front matter may hold any YAML):
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
	char **paths; /* folder + "/" + path relative to the folder */
	size_t n;
};

/* Fills out with the data files of split (NULL: "train") in config (NULL:
 * the default config) of the dataset folder. Trailing slashes of folder
 * are dropped in the paths. Returns 0, or a negative fidx_code with err
 * filled and out empty: FIDX_EINPUT for a missing folder, bad YAML ("...
 * /README.md:LINE: ..."), an unknown config or split (the message lists
 * the available ones), a pattern matching no file or no data files;
 * FIDX_EIO when reading the folder fails; FIDX_ENOMEM. */
int fidx_hub_resolve(const char *folder, const char *config, const char *split,
                     struct fidx_hub_files *out, struct fidx_err *err);

/* Frees the paths and empties f. Safe on an empty or freed f. */
void fidx_hub_files_free(struct fidx_hub_files *f);

#endif
