/* Boot arguments (argv on POSIX, the domain's command line on Xen): a
 * line either splits into key=value pairs or is refused with a message,
 * and every typed getter takes any value without misbehaving. */
#include <duet/args.h>
#include <duet/error.h>

#include "fuzz.h"

static struct duet_args args;

static void get_all(const char *key)
{
	const char *str;
	long long i;
	bool b;
	uint64_t size;
	duet_time_t t;

	FUZZ_CHECK(duet_args_get_str(&args, key, NULL, &str) == 0);
	(void)duet_args_get_int(&args, key, 0, -1000, 1000, &i);
	(void)duet_args_get_bool(&args, key, false, &b);
	if (duet_args_get_size(&args, key, 0, &size) == 0) {
		char text[32];
		uint64_t again;
		snprintf(text, sizeof(text), "%llu", (unsigned long long)size);
		FUZZ_CHECK(duet_parse_size(text, &again) == 0 && again == size);
	}
	(void)duet_args_get_duration(&args, key, 0, &t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_strdup(data, size);
	char err[128];

	duet_args_init(&args);
	err[0] = '\0';
	int r = duet_args_parse_line(&args, line, err, sizeof(err));
	if (r < 0) {
		FUZZ_CHECK(err[0] != '\0');
	} else {
		FUZZ_CHECK(args.count <= DUET_ARGS_MAX);
		for (unsigned i = 0; i < args.count; i++) {
			const char *key = args.v[i].key;
			FUZZ_CHECK(strlen(key) <= DUET_ARGS_KEY_MAX);
			FUZZ_CHECK(duet_args_peek(&args, key) != NULL);
			get_all(key);
		}
		FUZZ_CHECK(duet_args_unused(&args, 0) == NULL);
	}
	/* The same bytes as one token. */
	duet_args_init(&args);
	if (duet_args_add(&args, line, err, sizeof(err)) == 0)
		FUZZ_CHECK(args.count == 1);
	free(line);
	return 0;
}
