/* Reads YAML documents from standard input, separated by NUL bytes, and
 * prints one line per document: the tree fidx_yaml_parse builds, in the
 * canonical form tests/yaml/pyyaml_check.py also gives PyYAML's result, or
 * "error" and the message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "yamltree.h"

static void put_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void put_node(const cJSON *c)
{
	const cJSON *k;

	if (cJSON_IsArray(c) || cJSON_IsObject(c)) {
		putchar(cJSON_IsArray(c) ? '[' : '{');
		for (k = c->child; k; k = k->next) {
			if (cJSON_IsObject(c)) {
				put_str(k->string);
				putchar(':');
			}
			put_node(k);
			if (k->next)
				putchar(',');
		}
		putchar(cJSON_IsArray(c) ? ']' : '}');
	} else if (cJSON_IsString(c)) {
		put_str(c->valuestring);
	} else if (cJSON_IsNull(c)) {
		fputs("null", stdout);
	} else if (cJSON_IsBool(c)) {
		fputs(cJSON_IsTrue(c) ? "true" : "false", stdout);
	} else if (cJSON_IsRaw(c)) {
		printf("raw(%s)", c->valuestring);
	} else {
		fputs(c->valuestring, stdout);
	}
}

int main(void)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	int ch;

	if (!buf)
		return 1;
	for (;;) {
		ch = getchar();
		if (ch == EOF && n == 0)
			break;
		if (ch == EOF || ch == '\0') {
			struct fidx_err err;
			cJSON *out;
			if (fidx_yaml_parse("doc", buf, n, &out, &err) == 0) {
				put_node(out);
				putchar('\n');
				cJSON_Delete(out);
			} else {
				printf("error %s\n", err.msg);
			}
			n = 0;
			if (ch == EOF)
				break;
			continue;
		}
		if (n == cap && !(buf = realloc(buf, cap *= 2)))
			return 1;
		buf[n++] = (char)ch;
	}
	free(buf);
	return ferror(stdout) || fflush(stdout) ? 1 : 0;
}
