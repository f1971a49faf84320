/* Parsing of tar headers and their extensions, apart from any I/O so it can
 * be tested on byte arrays. Every function bounds each read by the field or
 * buffer it was given and returns NULL or a static message saying what is
 * wrong. */
#ifndef DUET_STORAGE_TAR_PARSE_H
#define DUET_STORAGE_TAR_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DUET__TAR_BLOCK	  512
#define DUET__TAR_EXT_MAX (64u << 10)

enum duet__tar_type {
	DUET__TAR_FILE = 1,  /* a regular file: index it */
	DUET__TAR_EXT = 2,   /* pax 'x'/'g', GNU 'L'/'K': data about the next */
	DUET__TAR_OTHER = 3, /* directory, symbolic link, device: skip */
	DUET__TAR_LINK = 4,  /* a hard link: another name for an earlier file */
};

/* Returned by duet__tar_parse_header() for an all-zero block. */
extern const char duet__tar_end[];
#define DUET__TAR_END duet__tar_end

struct duet__tar_header {
	enum duet__tar_type type;
	char flag;	/* the raw typeflag */
	uint64_t size;	/* after any pax size= */
	uint64_t mtime; /* after any pax mtime= */
	bool ustar;
	bool bad_checksum;
	char name[101];
	char prefix[156];
	char linkname[101];
};

/* What extension headers said about the next entry. */
struct duet__tar_pending {
	char *path;	/* pax path= */
	char *longname; /* GNU 'L' */
	char *linkpath; /* pax linkpath=, GNU 'K' */
	bool has_size, has_mtime;
	uint64_t size, mtime;
};

const char *duet__tar_parse_header(const uint8_t raw[DUET__TAR_BLOCK],
				   const struct duet__tar_pending *p,
				   struct duet__tar_header *h);
/* The data of an extension header (h->type == DUET__TAR_EXT). */
const char *duet__tar_parse_ext(const struct duet__tar_header *h,
				const uint8_t *data, size_t len,
				struct duet__tar_pending *p);
/* The entry's normalised name into out. */
const char *duet__tar_name(const struct duet__tar_header *h,
			   const struct duet__tar_pending *p, char *out,
			   size_t outlen);
/* A hard link's normalised target into out. */
const char *duet__tar_link_target(const struct duet__tar_header *h,
				  const struct duet__tar_pending *p, char *out,
				  size_t outlen);
void duet__tar_pending_clear(struct duet__tar_pending *p);

#endif
