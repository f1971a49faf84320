/* Recording to a file and loading a log to replay, on POSIX
 * (core/REPLAY.md). The recorder's writes go straight to the file, never
 * through the platform line, so they are not part of the recording. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <duet/app.h>
#include <duet/args.h>
#include <duet/replay.h>

#include "posix.h"

static int record_fd = -1;

static int file_sink(void *arg, const void *buf, size_t len)
{
	const char *p = buf;
	(void)arg;

	while (len > 0) {
		ssize_t n = write(record_fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A crash keeps the records that led to it: write them out, then let the
 * signal do what it would have done. */
static void on_fatal(int signum)
{
	duet_rr_flush(duet__posix_rr());
	signal(signum, SIG_DFL);
	raise(signum);
}

/* The value of key=VALUE among the boot arguments (skipping the values of
 * --block and --net, which are device declarations), or NULL. */
static const char *scan(int argc, char **argv, const char *key)
{
	size_t n = strlen(key);

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--block") == 0 || strcmp(argv[i], "--net") == 0)
			i++;
		else if (i < argc && strncmp(argv[i], key, n) == 0 &&
			 argv[i][n] == '=')
			return argv[i] + n + 1;
	}
	return NULL;
}

int duet__posix_record_start(int argc, char **argv, char *err, size_t errlen)
{
	static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
	const char *path = scan(argc, argv, "record");
	const char *max_text = scan(argc, argv, "record_max");
	uint64_t max = 64u << 20;
	struct duet_rr *rr;

	if (path == NULL)
		return 0;
	if (max_text != NULL && (duet_parse_size(max_text, &max) < 0 ||
				 max < (64u << 10))) {
		snprintf(err, errlen, "record_max=%s: expected a size of at least 64K",
			 max_text);
		return -EINVAL;
	}
	record_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (record_fd < 0) {
		snprintf(err, errlen, "record=%s: %s", path, strerror(errno));
		return -errno;
	}
	if ((rr = duet_rr_record_open(duet_app.name, file_sink, NULL, max)) == NULL) {
		snprintf(err, errlen, "record=%s: cannot write the log", path);
		close(record_fd);
		return -EIO;
	}
	duet__posix_rr_set(rr);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], on_fatal);
	return 1;
}

/* A record disk's image (Xen's record=DISK) holds its log after a header:
 * the log alone is kept. */
static int disk_image(void **buf, size_t *len)
{
	const void *log;
	size_t n;
	int r = duet_rr_disk_log(*buf, *len, &log, &n);

	if (r <= 0) {
		if (r < 0) {
			free(*buf);
			*buf = NULL;
		}
		return r;
	}
	memmove(*buf, log, n);
	*len = n;
	return 0;
}

int duet__posix_log_load(const char *path, void **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	char *p;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (p = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, p + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*buf = p;
	*len = got;
	return disk_image(buf, len);
}

void duet__posix_replay_stop(void *arg, int code, const char *msg)
{
	(void)arg;
	fflush(stdout);
	fprintf(stderr, "%s\n", msg);
	exit(code);
}
