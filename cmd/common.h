/* What every fidx command shares: messages, verbosity, exit codes, signal
 * clean-up, option helpers, and checked standard output. Only cmd/ prints
 * and exits; the libraries return fidx codes that map to exit codes here.
 */
#ifndef FIDX_CMD_COMMON_H
#define FIDX_CMD_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "progress.h"

/* Exit codes, documented in the README and in every --help. */
enum fidx_exit {
	FIDX_EXIT_OK = 0,
	FIDX_EXIT_FAILURE = 1, /* unexpected failure: out of memory, internal error */
	FIDX_EXIT_USAGE = 2,   /* bad command line */
	FIDX_EXIT_INPUT = 3,   /* bad input data, or inputs that do not fit together */
	FIDX_EXIT_IO = 4,      /* a file could not be read or written */
	FIDX_EXIT_CORRUPT = 5, /* an index file is damaged, truncated or not an index */
	FIDX_EXIT_API = 6,     /* a service failed: the embedding API, the Hub */
	FIDX_EXIT_LOCKED = 7,  /* another fidx is writing the same output (--no-wait, --wait) */
	FIDX_EXIT_DENIED = 8,  /* the Hub refused access: no token, a bad one, a gated or private dataset */
};

#define FIDX_EXIT_CODES_HELP                                                                 \
	"Exit status: 0 success, 1 unexpected failure, 2 usage error, 3 bad input,\n"            \
	"4 I/O error, 5 corrupt index, 6 embedding API or Hub error, 7 output locked,\n"       \
	"8 access denied by the Hub.\n"

extern int fidx_verbosity; /* 0 quiet, 1 normal, 2 verbose */

/* Sets the program name used in messages and installs SIGINT, SIGTERM,
 * SIGHUP and SIGPIPE handling that removes temporary files. */
void cmd_init(const char *prog);
const char *cmd_prog(void);

void cmd_error(const char *fmt, ...) FIDX_PRINTF(1, 2);
void cmd_warn(const char *fmt, ...) FIDX_PRINTF(1, 2);
/* A message shown by default, hidden by -q. */
void cmd_note(const char *fmt, ...) FIDX_PRINTF(1, 2);
/* A message shown with -v. */
void cmd_verbose(const char *fmt, ...) FIDX_PRINTF(1, 2);

/* A reader's note (io/readers/reader.h's fidx_reader_note): a warning
 * shown with -v. ctx is not used (for index/ingest.h's note callback). */
void cmd_reader_note(void *ctx, const char *line);

/* Prints err and returns the exit code for its code. */
int cmd_fail(const struct fidx_err *err);
int cmd_exit_code(int fidx_code);

/* Reports a usage error ("... (see --help)") and returns FIDX_EXIT_USAGE. */
int cmd_usage_error(const char *fmt, ...) FIDX_PRINTF(1, 2);

/* Prints "<prog> <version>" and the FAISS and SIMD details. */
void cmd_print_version(void);

/* The long-option values of the options commands share, one enum so that
 * no two can ever be equal (getopt would take one for the other). Each
 * command's own options count from 256. */
enum cmd_opt {
	CMD_OPT_VERSION = 0x1000,
	CMD_OPT_THREADS,
	CMD_OPT_PROGRESS,
	CMD_OPT_NO_PROGRESS,
	CMD_OPT_LEVEL,
	CMD_OPT_NO_WAIT,
	CMD_OPT_WAIT,
	CMD_OPT_KEEP,
	CMD_OPT_LOG_FORMAT,
	CMD_OPT_FORCE,
	CMD_OPT_API_URL,
	CMD_OPT_API_FORMAT,
	CMD_OPT_TOKEN_FILE,
	CMD_OPT_BATCH,
	CMD_OPT_CONCURRENCY,
	CMD_OPT_RETRIES,
	CMD_OPT_TIMEOUT,
	CMD_OPT_CACHE,
	CMD_OPT_NO_CACHE,
};

/* Options every command has: -q, -v, -h, --version, and getopt's errors.
 * Commands list CMD_COMMON_OPTIONS in their long options and pass "qvh" in
 * their short options (with a leading ':'), then hand every option their
 * switch does not know to cmd_common_option. */
#define CMD_COMMON_OPTIONS                                  \
	{"threads", required_argument, NULL, CMD_OPT_THREADS}, \
	{"progress", no_argument, NULL, CMD_OPT_PROGRESS},     \
	{"no-progress", no_argument, NULL, CMD_OPT_NO_PROGRESS}, \
	{"quiet", no_argument, NULL, 'q'},                   \
	{"verbose", no_argument, NULL, 'v'},                 \
	{"help", no_argument, NULL, 'h'},                    \
	{"version", no_argument, NULL, CMD_OPT_VERSION}
/* The help text of the options above, for usage messages. */
#define CMD_COMMON_HELP                                                                   \
	"      --threads <n>          threads to use (default: all cores)\n"                   \
	"      --progress, --no-progress\n"                                                     \
	"                             show progress on stderr, or not (default: when it is\n"  \
	"                             a terminal)\n"                                            \
	"  -q, --quiet                print errors only\n"                                      \
	"  -v, --verbose              print more\n"                                             \
	"  -h, --help                 show this help\n"                                         \
	"      --version              show the version\n"
/* Returns CMD_CONTINUE after -q, -v and --threads, else the exit status to end with:
 * 0 after printing the usage or the version, FIDX_EXIT_USAGE after a
 * usage error (an unknown option, a missing value). */
#define CMD_CONTINUE (-1)
int cmd_common_option(int c, const char *usage, char **argv);

/* The options build and merge share: --level, --no-wait, --wait, --keep
 * (into io/core/outfile.h's flags and a compression level) and --log-format. */
#define CMD_OUT_OPTIONS                                            \
	{"log-format", required_argument, NULL, CMD_OPT_LOG_FORMAT}, \
	{"level", required_argument, NULL, CMD_OPT_LEVEL},          \
	{"no-wait", no_argument, NULL, CMD_OPT_NO_WAIT},            \
	{"wait", required_argument, NULL, CMD_OPT_WAIT},            \
	{"keep", required_argument, NULL, CMD_OPT_KEEP},            \
	{"force", no_argument, NULL, CMD_OPT_FORCE}
#define CMD_OUT_HELP                                                                          \
	"      --level <1-12>         compression level, 1 fastest to 12 smallest (default\n"    \
	"                             1); higher levels shrink texts and ids, hardly the\n"     \
	"                             vectors\n"                                                 \
	"      --wait <seconds>       when another fidx is writing the same output, wait\n"      \
	"                             for it at most this long, then fail with status 7\n"      \
	"                             (default: as long as it takes)\n"                          \
	"      --no-wait              fail with status 7 at once if another fidx is\n"           \
	"                             writing the same output\n"                                 \
	"      --keep <n>             keep the n previous versions of the output as\n"          \
	"                             <output>.1 (the newest) to <output>.<n>\n"                \
	"      --force                replace the output even when it is not a fidx index\n"  \
	"      --log-format <f>       text (default: messages), or json: one JSON object\n"   \
	"                             on stderr summing up the run, and nothing else\n"
/* Handles one of CMD_OUT_OPTIONS: CMD_CONTINUE, an exit status after a
 * usage error, or -2 when c is not one of them. */
int cmd_out_option(int c, unsigned *flags, int *level);

/* The embedding API options build and search share, as getopt long
 * options, their help, and their handling into a spec. */
#define CMD_API_OPTIONS                                                   \
	{"api-url", required_argument, NULL, CMD_OPT_API_URL},             \
	{"api-format", required_argument, NULL, CMD_OPT_API_FORMAT},       \
	{"token-file", required_argument, NULL, CMD_OPT_TOKEN_FILE},       \
	{"batch", required_argument, NULL, CMD_OPT_BATCH},                 \
	{"concurrency", required_argument, NULL, CMD_OPT_CONCURRENCY},     \
	{"retries", required_argument, NULL, CMD_OPT_RETRIES},             \
	{"timeout", required_argument, NULL, CMD_OPT_TIMEOUT},             \
	{"cache", required_argument, NULL, CMD_OPT_CACHE},                 \
	{"no-cache", no_argument, NULL, CMD_OPT_NO_CACHE}
#define CMD_API_HELP                                                                          \
	"Embedding API (--embedder api):\n"                                                     \
	"      --api-url <url>        the service (default: the Hugging Face Inference API,\n"   \
	"                             https://router.huggingface.co/hf-inference/models/\n"      \
	"                             <model>/pipeline/feature-extraction)\n"                   \
	"      --api-format <f>       hf, tei (text-embeddings-inference /embed) or openai\n"    \
	"                             (/v1/embeddings); default: from the URL\n"                \
	"      --model <name>         default sentence-transformers/all-MiniLM-L6-v2\n"         \
	"      --token-file <file>    the API token; default for hf: HF_TOKEN,\n"              \
	"                             HUGGING_FACE_HUB_TOKEN, then the Hugging Face token\n"      \
	"                             file; for tei and openai: FIDX_API_TOKEN\n"                \
	"      --batch <n>            texts per request (default 32)\n"                         \
	"      --concurrency <n>      requests in flight (default 4)\n"                          \
	"      --retries <n>          retries per batch (default 5)\n"                           \
	"      --timeout <seconds>    give up on the whole job after this long (default: no\n"  \
	"                             limit; each request is cut after 2 minutes)\n"          \
	"      --cache <dir>          cache of embeddings (default: $XDG_CACHE_HOME/fidx/\n"     \
	"                             embeddings, or ~/.cache/fidx/embeddings)\n"               \
	"      --no-cache             neither read nor write the cache\n"
/* Handles one of CMD_API_OPTIONS into the embedder's settings: CMD_CONTINUE,
 * an exit status after a usage error, or -2 when c is not one of them. */
struct fidx_embed_config;
int cmd_api_option(int c, struct fidx_embed_config *cfg);
/* Shows embedding progress on a terminal and, with -v, the API's log. */
void cmd_embed_hooks(struct fidx_embed_config *cfg);
/* Shows download progress on a terminal and, with -v, the Hub's log
 * (io/hub/remote.h's callbacks). */
struct fidx_hub_opts;
void cmd_hub_hooks(struct fidx_hub_opts *o);
/* The Hub's figures (io/hub/remote.h) for --log-format json (hub_requests,
 * hub_bytes, hub_downloaded, hub_cached) and, with note set, a note; when
 * no request was made and no file used, nothing. */
struct fidx_hub_stats;
void cmd_hub_report(const struct fidx_hub_stats *st, int note);

/* Whether progress is shown: --progress, or by default when stderr is a
 * terminal (not with -q, --no-progress or --log-format json). */
int cmd_progress_on(void);
/* A progress display of rows (io/core/progress.h), or {NULL} when it is off. */
struct fidx_progress cmd_rows_progress(void);
/* Ends a progress line, if one is shown. */
void cmd_progress_done(void);

/* In a usage text, stands for the names of the formats fidx reads. */
#define CMD_FORMATS "@FORMATS@"

/* Parses a --format value: the name of a format fidx reads
 * (io/readers/reader.h). */
struct fidx_format;
int cmd_parse_format(const char *s, const struct fidx_format **format);

/* What a run is made of, for fidx build --if-changed: every option the
 * command line gave, as getopt_long parsed it, and the operands. An option
 * a command adds is in it by being parsed: only options named in the
 * command's ignore list (those that cannot change what is written: -q,
 * --wait, --token-file, ...) are left out. */
#define CMD_RECIPE_MAX 512
struct option;
struct cmd_recipe {
	const char *name[CMD_RECIPE_MAX]; /* long names */
	const char *arg[CMD_RECIPE_MAX];  /* their values, or NULL */
	size_t n;
};
/* Notes what getopt_long returned: c, with longindex (-1 for a short
 * option: found in opts by its value). Call it for every option. */
void cmd_recipe_note(struct cmd_recipe *r, const struct option *opts, int c, int longindex, const char *arg);
/* The hex SHA-256 of fidx's version, the options noted but those in ignore
 * (NULL-terminated long names), in the order of their names (an option
 * given several times keeps its order), and the operands. */
void cmd_recipe_digest(const struct cmd_recipe *r, const char *const *ignore, char *const *operands,
                       size_t noperands, char hex[65]);

/* Parses an option's value; on failure prints a usage error and returns -1. */
int cmd_parse_size(const char *opt, const char *s, size_t min, size_t max, size_t *out);
int cmd_parse_float(const char *opt, const char *s, float *out);

/* Flushes and closes standard output, reporting a write error (a full disk,
 * a closed pipe). Returns code, or FIDX_EXIT_IO when the output failed.
 * Later calls only return code. */
int cmd_finish(int code);

/* --log-format json: from this call on, the run ends with one JSON object
 * on stderr instead of messages: start, end, seconds, command, outcome
 * ("ok", "skipped", "failed"), exit, error or warning, and the fields the
 * command adds with cmd_log_num and cmd_log_str (a key set twice keeps the
 * last value). */
void cmd_log_json(void);
void cmd_log_num(const char *key, double v);
void cmd_log_str(const char *key, const char *v);

#endif
