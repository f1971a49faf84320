/* Boot arguments: `key=value` tokens and typed getters. */
#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <duet/args.h>
#include <duet/error.h>
#include <duet/log.h>

void duet_args_init(struct duet_args *args)
{
	args->count = 0;
	args->buf_used = 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool key_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '.' || c == '-';
}

/* Copies n bytes of s into the args buffer, NUL-terminated. */
static char *args_store(struct duet_args *args, const char *s, size_t n)
{
	if (n + 1 > sizeof(args->buf) - args->buf_used)
		return NULL;
	char *p = args->buf + args->buf_used;
	memcpy(p, s, n);
	p[n] = '\0';
	args->buf_used += n + 1;
	return p;
}

static int args_add_kv(struct duet_args *args, const char *key, size_t klen,
		       const char *value, size_t vlen, const char *token,
		       char *err, size_t errlen)
{
	char kbuf[DUET_ARGS_KEY_MAX + 1];

	if (klen == 0) {
		set_err(err, errlen, "'%s': expected key=value", token);
		return -EINVAL;
	}
	if (klen > DUET_ARGS_KEY_MAX) {
		set_err(err, errlen, "'%s': key longer than %d characters",
			token, DUET_ARGS_KEY_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < klen; i++) {
		if (!key_char_ok(key[i])) {
			set_err(err, errlen,
				"'%s': keys use only a-z 0-9 _ . -", token);
			return -EINVAL;
		}
	}
	memcpy(kbuf, key, klen);
	kbuf[klen] = '\0';
	if (duet_args_peek(args, kbuf) != NULL) {
		set_err(err, errlen, "'%s' given twice", kbuf);
		return -EEXIST;
	}
	if (args->count == DUET_ARGS_MAX) {
		set_err(err, errlen, "'%s': more than %d boot arguments",
			token, DUET_ARGS_MAX);
		return -ENOSPC;
	}
	size_t mark = args->buf_used;
	const char *k = args_store(args, key, klen);
	const char *v = k != NULL ? args_store(args, value, vlen) : NULL;
	if (v == NULL) {
		args->buf_used = mark;
		set_err(err, errlen, "'%s': boot arguments too long in total",
			token);
		return -ENOSPC;
	}
	args->v[args->count].key = k;
	args->v[args->count].value = v;
	args->v[args->count].used = false;
	args->count++;
	return 0;
}

int duet_args_add(struct duet_args *args, const char *token, char *err,
		  size_t errlen)
{
	const char *eq = strchr(token, '=');

	if (eq == NULL) {
		set_err(err, errlen, "'%s': expected key=value", token);
		return -EINVAL;
	}
	return args_add_kv(args, token, (size_t)(eq - token), eq + 1,
			   strlen(eq + 1), token, err, errlen);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int duet_args_parse_line(struct duet_args *args, const char *line, char *err,
			 size_t errlen)
{
	char tok[DUET_ARGS_BUF];
	const char *p = line;

	for (;;) {
		while (is_blank(*p))
			p++;
		if (*p == '\0')
			return 0;
		/* Copy one token, dropping the quotes around quoted parts. */
		size_t n = 0;
		bool quoted = false;
		while (*p != '\0' && (quoted || !is_blank(*p))) {
			if (*p == '"') {
				quoted = !quoted;
			} else {
				if (n + 1 >= sizeof(tok)) {
					set_err(err, errlen,
						"boot argument too long");
					return -ENOSPC;
				}
				tok[n++] = *p;
			}
			p++;
		}
		tok[n] = '\0';
		if (quoted) {
			set_err(err, errlen, "'%s': unterminated quote", tok);
			return -EINVAL;
		}
		int r = duet_args_add(args, tok, err, errlen);
		if (r < 0)
			return r;
	}
}

static struct duet_arg *args_find(const struct duet_args *args,
				  const char *key)
{
	for (unsigned i = 0; i < args->count; i++) {
		if (strcmp(args->v[i].key, key) == 0)
			return (struct duet_arg *)&args->v[i];
	}
	return NULL;
}

const char *duet_args_peek(const struct duet_args *args, const char *key)
{
	const struct duet_arg *a = args_find(args, key);
	return a != NULL ? a->value : NULL;
}

/* Looks the key up and marks it used: NULL when absent (or no args). */
static const char *args_take(struct duet_args *args, const char *key)
{
	if (args == NULL)
		return NULL;
	struct duet_arg *a = args_find(args, key);
	if (a == NULL)
		return NULL;
	a->used = true;
	return a->value;
}

static int bad_value(const char *key, const char *value, const char *what)
{
	DUET_ERROR("args", "%s=%s: %s", key, value, what);
	return -EINVAL;
}

int duet_args_get_str(struct duet_args *args, const char *key,
		      const char *def, const char **out)
{
	const char *v = args_take(args, key);
	*out = v != NULL ? v : def;
	return 0;
}

int duet_parse_int(const char *s, long long *out)
{
	const char *p = s;
	bool neg = false;
	unsigned long long limit = (unsigned long long)LLONG_MAX;
	unsigned long long v = 0;

	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		p++;
	}
	if (neg)
		limit++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (limit - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (*p != '\0')
		return -EINVAL;
	*out = neg ? (long long)(0 - v) : (long long)v;
	return 0;
}

int duet_args_get_int(struct duet_args *args, const char *key, long long def,
		      long long min, long long max, long long *out)
{
	const char *v = args_take(args, key);
	long long n;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	int r = duet_parse_int(v, &n);
	if (r == -EINVAL)
		return bad_value(key, v, "not an integer");
	if (r < 0 || n < min || n > max) {
		DUET_ERROR("args", "%s=%s: out of range [%lld, %lld]", key, v,
			   min, max);
		return -ERANGE;
	}
	*out = n;
	return 0;
}

int duet_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"", "1", "yes", "true", "on"};
	static const char *const no[] = {"0", "no", "false", "off"};

	for (unsigned i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
	}
	for (unsigned i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

int duet_args_get_bool(struct duet_args *args, const char *key, bool def,
		       bool *out)
{
	const char *v = args_take(args, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (duet_parse_bool(v, out) < 0)
		return bad_value(key, v, "expected yes/no, true/false, on/off or 1/0");
	return 0;
}

/* Parses an unsigned decimal prefix; *end gets the first other character. */
static int parse_u64_prefix(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	*end = s;
	return 0;
}

static int scale(uint64_t v, uint64_t mult, uint64_t *out)
{
	if (mult != 0 && v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int duet_parse_size(const char *s, uint64_t *out)
{
	uint64_t v;
	const char *end;
	int r = parse_u64_prefix(s, &v, &end);

	if (r < 0)
		return r;
	uint64_t mult;
	switch (*end) {
	case '\0': mult = 1; break;
	case 'k': case 'K': mult = UINT64_C(1) << 10; end++; break;
	case 'm': case 'M': mult = UINT64_C(1) << 20; end++; break;
	case 'g': case 'G': mult = UINT64_C(1) << 30; end++; break;
	default: return -EINVAL;
	}
	if (*end != '\0')
		return -EINVAL;
	return scale(v, mult, out);
}

/* The size and duration getters: a 64-bit value, a parser, and what to say
 * about a malformed value. */
static int get_u64(struct duet_args *args, const char *key, uint64_t def,
		   uint64_t *out, int (*parse)(const char *, uint64_t *),
		   const char *expected)
{
	const char *v = args_take(args, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	int r = parse(v, out);
	if (r == -ERANGE) {
		DUET_ERROR("args", "%s=%s: too large", key, v);
		return r;
	}
	if (r < 0)
		return bad_value(key, v, expected);
	return 0;
}

int duet_args_get_size(struct duet_args *args, const char *key, uint64_t def,
		       uint64_t *out)
{
	return get_u64(args, key, def, out, duet_parse_size,
		       "expected a size such as 512, 64k, 16M, 1G");
}

int duet_parse_duration(const char *s, duet_time_t *out)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {
		{"ns", 1},
		{"us", DUET_NSEC_PER_USEC},
		{"ms", DUET_NSEC_PER_MSEC},
		{"s", DUET_NSEC_PER_SEC},
		{"m", 60 * DUET_NSEC_PER_SEC},
		{"h", 3600 * DUET_NSEC_PER_SEC},
	};
	uint64_t v;
	const char *end;
	int r = parse_u64_prefix(s, &v, &end);

	if (r < 0)
		return r;
	if (*end == '\0') {
		if (v != 0)
			return -EINVAL; /* a unit is required: 5 what? */
		*out = 0;
		return 0;
	}
	for (unsigned i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0)
			return scale(v, units[i].ns, out);
	}
	return -EINVAL;
}

int duet_args_get_duration(struct duet_args *args, const char *key,
			   duet_time_t def, duet_time_t *out)
{
	return get_u64(args, key, def, out, duet_parse_duration,
		       "expected a duration such as 250ms, 5s, 2m");
}

const char *duet_args_unused(const struct duet_args *args, unsigned n)
{
	if (args == NULL)
		return NULL;
	for (unsigned i = 0; i < args->count; i++) {
		if (!args->v[i].used && n-- == 0)
			return args->v[i].key;
	}
	return NULL;
}
