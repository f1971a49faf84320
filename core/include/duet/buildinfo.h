/* duet/buildinfo.h — what an image was built from.
 *
 * Every image carries one record of its own provenance, generated at build
 * time: the Duet version, the platform, the Duet commit (with "-dirty"
 * when the tree had uncommitted changes) and the app's (the same for the
 * apps in Duet's tree; an app's own repository's for one built against an
 * installed Duet), the configure arguments, the
 * compiler, and the versions of the libraries linked in. `./duet info APP`
 * prints it from the image file without running it; apps may print it.
 * The strings are also kept, one "key=value" per line, in the image's
 * `.duet.buildinfo` section.
 */
#ifndef DUET_BUILDINFO_H
#define DUET_BUILDINFO_H

struct duet_buildinfo {
	const char *version;
	const char *platform;
	const char *commit;	/* Duet's */
	const char *app_commit; /* the app's tree's */
	const char *configure_args;
	const char *compiler;
	const char *libraries;
};

extern const struct duet_buildinfo duet_buildinfo;

#endif
