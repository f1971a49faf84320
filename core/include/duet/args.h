/* duet/args.h — boot arguments.
 *
 * Both platforms configure an image the same way: a list of `key=value`
 * tokens (argv on POSIX, the domain's `extra=` command line on Xen). Keys are
 * 1-31 characters of [a-z0-9_.-]; values may be empty; a value holding spaces
 * is written key="a b" on a command line. A key given twice is an error.
 *
 * Getters look a key up, parse its value and mark the key as used; after the
 * app has started, the core reports every key nobody asked for as unknown
 * and ends the boot with DUET_EXIT_USAGE, so a misspelt key never goes
 * unnoticed. A getter returns 0 and stores the default when the key is
 * absent; -EINVAL for a malformed value; -ERANGE for a value outside
 * [min, max]. Both errors are logged with the key and the offending value,
 * so callers can simply propagate them.
 *
 * All strings returned point into the args struct and live as long as it.
 */
#ifndef DUET_ARGS_H
#define DUET_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <duet/clock.h>

#define DUET_ARGS_MAX 64
#define DUET_ARGS_KEY_MAX 31
#define DUET_ARGS_BUF 4096

struct duet_arg {
	const char *key;
	const char *value;
	bool used;
};

struct duet_args {
	unsigned count;
	struct duet_arg v[DUET_ARGS_MAX];
	size_t buf_used;
	char buf[DUET_ARGS_BUF];
};

void duet_args_init(struct duet_args *args);

/* Adds one `key=value` token. On error returns -EINVAL (bad syntax or key),
 * -EEXIST (key given twice) or -ENOSPC (too many or too long), and writes a
 * one-line explanation to err (if errlen > 0). */
int duet_args_add(struct duet_args *args, const char *token, char *err,
		  size_t errlen);

/* Splits a command line on blanks (honouring "double quotes" inside a value)
 * and adds each token as duet_args_add() does. Stops at the first error. */
int duet_args_parse_line(struct duet_args *args, const char *line, char *err,
			 size_t errlen);

/* Lookup without parsing or marking as used; NULL when absent. */
const char *duet_args_peek(const struct duet_args *args, const char *key);

int duet_args_get_str(struct duet_args *args, const char *key,
		      const char *def, const char **out);
int duet_args_get_int(struct duet_args *args, const char *key, long long def,
		      long long min, long long max, long long *out);
/* 1/0, yes/no, true/false, on/off; an empty value means true (`verbose=`). */
int duet_args_get_bool(struct duet_args *args, const char *key, bool def,
		       bool *out);
/* Bytes with an optional binary suffix: 512, 64k, 16M, 1G (k/K, m/M, g/G). */
int duet_args_get_size(struct duet_args *args, const char *key, uint64_t def,
		       uint64_t *out);
/* A duration with a unit: 250us, 10ms, 5s, 2m, 1h; a bare 0 is allowed. */
int duet_args_get_duration(struct duet_args *args, const char *key,
			   duet_time_t def, duet_time_t *out);

/* The n-th key no getter has asked for, or NULL after the last one. */
const char *duet_args_unused(const struct duet_args *args, unsigned n);

/* Value parsers used by the getters, for modules that parse sub-fields. */
int duet_parse_int(const char *s, long long *out);
int duet_parse_size(const char *s, uint64_t *out);
int duet_parse_duration(const char *s, duet_time_t *out);
int duet_parse_bool(const char *s, bool *out);

#endif
