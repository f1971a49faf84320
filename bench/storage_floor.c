/* storage_floor: the device's flush floor, for bench/storage.sh: how many
 * durable writes per second the file system under BENCH_DIR takes when
 * nothing else runs. A plain program (no Duet, no event loop, no thread):
 * it writes FILE full of zeros and syncs it, as the log store's format
 * leaves its image (every block allocated and written, so no write below
 * changes file system metadata), then appends `sets` writes of `size`
 * bytes rounded up to whole 512-byte sectors (at least one), each followed
 * by fdatasync(2), one at a time, and prints one result line.
 *
 *   ./storage_floor FILE SETS SIZE [IMAGE_BYTES]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long long arg(const char *s, const char *what)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0) {
		fprintf(stderr, "storage_floor: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr,
			"usage: storage_floor FILE SETS SIZE [IMAGE_BYTES]\n");
		return 2;
	}
	long long sets = arg(argv[2], "SETS"), size = arg(argv[3], "SIZE");
	long long image = argc == 5 ? arg(argv[4], "IMAGE_BYTES") : 64 << 20;
	size_t len = (size_t)(size + 511) / 512 * 512;
	if (len == 0)
		len = 512;
	if (sets == 0 || (long long)len > image) {
		fprintf(stderr, "storage_floor: nothing to do\n");
		return 2;
	}
	int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char *buf = calloc(1, 1 << 20);
	if (buf == NULL || fd < 0 || (long long)len > 1 << 20) {
		fprintf(stderr, "storage_floor: %s: %s\n", argv[1],
			fd < 0 ? strerror(errno) : "out of memory");
		return 1;
	}
	for (long long at = 0; at < image; at += 1 << 20) {
		size_t n =
		    image - at < 1 << 20 ? (size_t)(image - at) : 1 << 20;
		if (pwrite(fd, buf, n, at) != (ssize_t)n) {
			fprintf(stderr, "storage_floor: %s: %s\n", argv[1],
				strerror(errno));
			return 1;
		}
	}
	if (fsync(fd) < 0)
		return 1;
	memset(buf, 0x5a, len);
	off_t off = 0;
	double t0 = now();
	for (long long i = 0; i < sets; i++) {
		buf[0] = (char)i;
		if (pwrite(fd, buf, len, off) != (ssize_t)len ||
		    fdatasync(fd) < 0) {
			fprintf(stderr, "storage_floor: write %lld: %s\n", i,
				strerror(errno));
			return 1;
		}
		/* Wrap rather than grow: the file's size never changes. */
		off += (off_t)len;
		if (off + (off_t)len > image)
			off = 0;
	}
	double secs = now() - t0;
	printf("floor sets=%lld size=%lld write_bytes=%zu seconds=%.3f "
	       "sets_per_sec=%.1f\n",
	       sets, size, len, secs, (double)sets / secs);
	free(buf);
	close(fd);
	return 0;
}
