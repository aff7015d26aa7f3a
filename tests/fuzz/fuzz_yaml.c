/* libFuzzer target for the YAML loader of dataset cards (libyaml events to
 * a cJSON tree):
 *   clang -fsanitize=fuzzer,address,undefined -Iio/core -Iio/hub io/core/error.c \
 *         io/core/number.c io/hub/yamltree.c tests/fuzz/fuzz_yaml.c -lcjson -lyaml -lm \
 *         -o fuzz_yaml
 *   ./fuzz_yaml -max_total_time=60 NEW_CORPUS_DIR tests/fuzz/corpus/yaml
 * Any input must give either a tree or a clean input error. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "yamltree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fidx_err err;
	cJSON *out = (cJSON *)&err;
	int rc;

	memset(&err, 0, sizeof err);
	rc = fidx_yaml_parse("fuzz.yaml", (const char *)data, size, &out, &err);
	if (rc == 0) {
		char *s;
		if (!out)
			abort();
		/* Walk the whole tree, as callers will. */
		s = cJSON_PrintUnformatted(out);
		cJSON_free(s);
		cJSON_Delete(out);
	} else {
		if (out || err.code != rc || (rc != FIDX_EINPUT && rc != FIDX_ENOMEM) ||
		    !memchr(err.msg, 0, sizeof err.msg) || !err.msg[0])
			abort();
	}
	return 0;
}
