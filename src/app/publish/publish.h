/*
 * publish.h: `eota publish`, which puts a firmware image and an
 * ESPHome-compatible manifest.json into a directory that any web server or
 * CDN serves to devices that poll it (docs/pull-updates.md).
 *
 *   files.c     reading the image, hashing it, writing files atomically
 *   manifest.c  the manifest: read the old one, add or replace a build
 *   cmd.c       the command line, --help, the order of the steps
 */
#ifndef EOTA_APP_PUBLISH_H
#define EOTA_APP_PUBLISH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "eota/signature.h"

typedef struct pub_opts {
    const char *firmware;
    const char *version;
    const char *dir;
    const char *name;          /* the manifest's name; NULL: keep or derive */
    const char *chip_family;   /* default "HOST" */
    const char *summary;
    const char *release_url;
    const char *image_name;    /* the file in dir; NULL: derived, versioned */
} pub_opts;

/* What the image is, as the manifest tells it. */
typedef struct pub_image {
    uint8_t *data;
    size_t size;
    char md5[33];
    char sha256[65];
    char path[512];            /* ota.path: the file name in dir */
    char base[256];            /* the firmware's file name without .bin */
    int is_signed;             /* it ends with a signature trailer: */
    eota_sig_info sig;         /* what it says (pointers into data) */
} pub_image;

/* files.c: read and hash the firmware, and read its signature trailer
 * when it has one. 0, or -1 with a message in err. */
int pub_read_image(const char *file, pub_image *img, char *err, size_t errlen);
/* Write data to dir/name through a temporary file, fsync'd, renamed over
 * name, the directory fsync'd. 0, or -1 with a message in err. */
int pub_write_atomic(const char *dir, const char *name, const void *data, size_t len, char *err,
                     size_t errlen);
/* Move path's modification time past old (seconds; 0: nothing to do):
 * web servers whose ETag is the modification second and the size (nginx)
 * would otherwise answer 304 for a manifest replaced within the same
 * second by one of the same length. */
void pub_mtime_after(const char *path, time_t old);
/* The whole of a file (NUL-terminated) into *out (malloc'd); 0, 1 when it
 * does not exist, -1 with err. */
int pub_read_file(const char *path, char **out, size_t *len, char *err, size_t errlen);

/* manifest.c: the new manifest text (malloc'd), from the old one (NULL
 * when none) with this build added or replaced. NULL with err. */
char *pub_manifest_update(const char *old_text, const pub_opts *o, const pub_image *img, char *err,
                          size_t errlen);

#endif
