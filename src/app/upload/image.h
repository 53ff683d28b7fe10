/*
 * image.h: the firmware file as `eota upload` sends it: mapped
 * read-only, its MD5, a quick trial of whether gzip pays, and the gzip
 * version made on demand (zlib, level 9), each readable at an offset by the
 * uploader engine (eota_client_image).
 */
#ifndef EOTA_APP_UPLOAD_IMAGE_H
#define EOTA_APP_UPLOAD_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "eota/client.h"

typedef struct up_blob {
    const uint8_t *data;
    size_t len;
} up_blob;

typedef struct up_image {
    char *path;
    uint8_t *data;       /* the file: mmap'ed (or read when it cannot be) */
    size_t size;
    int mapped;
    struct stat st;      /* the file as it was mapped */
    uint8_t md5[16];
    int md5_cached;      /* md5 came from the digest cache (digest_cache.h) */
    up_blob raw;

    /* gzip, made by up_image_compress */
    uint8_t *gz;
    size_t gz_size;
    uint8_t gz_md5[16];
    up_blob gzb;
    int gz_state;        /* 0 not tried, 1 ready, -1 failed */
    double compress_seconds;

    /* the trial (up_image_trial) */
    int trial_done;
    double trial_ratio;  /* compressed / raw over the samples */
    size_t trial_bytes;  /* bytes sampled */
    double trial_seconds;
} up_image;

/* Largest image the protocol can announce (a 32-bit size). */
#define UP_IMAGE_MAX 0xFFFFFFFFu

/* Map the file and take its MD5 (from the digest cache when it holds the
 * file unchanged). 0, or -1 with a message in err. */
int up_image_load(up_image *im, const char *path, char *err, size_t errlen);
void up_image_free(up_image *im);

/* A device said the MD5 did not match: forget a cached one. */
void up_image_md5_refused(up_image *im);

/* Compress a few 64 KiB pieces spread over the image (all of it when it is
 * small) at level 9, and return compressed/raw over them. Cheap: a few
 * milliseconds. */
double up_image_trial(up_image *im);

/* Make the gzip version (level 9) and its MD5; idempotent. 0 or -1. */
int up_image_compress(up_image *im, char *err, size_t errlen);

/* 1 with a sentence in out when the file ends with a signature trailer
 * (docs/signed-images.md): its version, counter and key ids; 0 when not. */
int up_image_signature(const up_image *im, char *out, size_t outlen);
/* What to do about a refused signature (8D) or downgrade (93), appended to
 * the device's words ("; sign it with ..."); "" for another code
 * (native_words.c). */
void up_signature_hint(uint8_t code, char *out, size_t outlen);

/* The engine's view of the raw and the gzip version. */
eota_client_image up_image_raw(up_image *im);
eota_client_image up_image_gzip(up_image *im);

#endif
