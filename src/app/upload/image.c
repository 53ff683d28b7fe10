/*
 * image.c: the firmware file for `eota upload` (image.h). The
 * file is mapped, not read, so that a fleet upload of a big image costs one
 * copy of it in memory however many devices receive it; the gzip version is
 * made once, when the first device accepts gzip, and shared the same way.
 */
#include "upload/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "eota/posix.h"
#include "upload/digest_cache.h"
#include "sign/sign.h"

#define TRIAL_PIECE (64u * 1024u)
#define TRIAL_PIECES 4u

static double secs_since(uint64_t t0) { return (double)(eota_posix_now_ms64() - t0) / 1000.0; }

/* The size of an open firmware file, checked: a regular file, not empty,
 * announceable in 32 bits. 0, or -1 with a message in err. */
static int check_size(int fd, const char *path, struct stat *stp, size_t *size, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "the firmware '%s' is not a regular file", path);
        return -1;
    }
    if (st.st_size == 0) {
        snprintf(err, errlen, "the firmware '%s' is empty", path);
        return -1;
    }
    if ((uint64_t)st.st_size > UP_IMAGE_MAX) {
        snprintf(err, errlen, "the firmware '%s' is larger than 4 GiB; the protocol cannot announce it", path);
        return -1;
    }
    *size = (size_t)st.st_size;
    *stp = st;
    return 0;
}

/* Where the file cannot be mapped: read it whole. */
static int read_whole(up_image *im, int fd, const char *path, char *err, size_t errlen)
{
    im->data = malloc(im->size);
    if (!im->data) {
        snprintf(err, errlen, "out of memory reading '%s'", path);
        return -1;
    }
    size_t got = 0;
    while (got < im->size) {
        ssize_t n = read(fd, im->data + got, im->size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errlen, "cannot read the firmware '%s': %s", path, n < 0 ? strerror(errno) : "file shrank");
            free(im->data);
            im->data = NULL;
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

int up_image_load(up_image *im, const char *path, char *err, size_t errlen)
{
    memset(im, 0, sizeof *im);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the firmware '%s': %s", path, strerror(errno));
        return -1;
    }
    if (check_size(fd, path, &im->st, &im->size, err, errlen) != 0) {
        close(fd);
        return -1;
    }
    void *m = mmap(NULL, im->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m != MAP_FAILED) {
        im->data = m;
        im->mapped = 1;
    } else if (read_whole(im, fd, path, err, errlen) != 0) {
        close(fd);
        return -1;
    }
    close(fd);
    im->path = strdup(path);
    im->md5_cached = up_digest_cache_get(&im->st, im->md5);
    if (!im->md5_cached && eota_posix_digest(EOTA_HASH_MD5, im->data, im->size, im->md5) != EOTA_OK) {
        snprintf(err, errlen, "MD5 of the firmware failed (OpenSSL)");
        up_image_free(im);
        return -1;
    }
    if (!im->md5_cached)
        up_digest_cache_put(&im->st, im->md5);
    im->raw.data = im->data;
    im->raw.len = im->size;
    return 0;
}

void up_image_md5_refused(up_image *im)
{
    if (im->md5_cached)
        up_digest_cache_drop(&im->st);
}

void up_image_free(up_image *im)
{
    if (im->data) {
        if (im->mapped)
            munmap(im->data, im->size);
        else
            free(im->data);
    }
    free(im->gz);
    free(im->path);
    memset(im, 0, sizeof *im);
}

/* Deflated size of one piece (raw deflate: no header to skew small
 * samples), or the piece's own size when zlib fails. */
static size_t deflated_size(const uint8_t *p, size_t n)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return n;
    uint8_t out[16384];
    size_t total = 0;
    zs.next_in = (Bytef *)(uintptr_t)p;
    zs.avail_in = (uInt)n;
    int rc;
    do {
        zs.next_out = out;
        zs.avail_out = sizeof out;
        rc = deflate(&zs, Z_FINISH);
        total += sizeof out - zs.avail_out;
    } while (rc == Z_OK || (rc == Z_BUF_ERROR && zs.avail_out == 0));
    deflateEnd(&zs);
    return rc == Z_STREAM_END ? total : n;
}

double up_image_trial(up_image *im)
{
    if (im->trial_done)
        return im->trial_ratio;
    uint64_t t0 = eota_posix_now_ms64();
    size_t in = 0, out = 0;
    if (im->size <= TRIAL_PIECE * TRIAL_PIECES) {
        in = im->size;
        out = deflated_size(im->data, im->size);
    } else {
        for (unsigned i = 0; i < TRIAL_PIECES; i++) {
            size_t off = (im->size - TRIAL_PIECE) / (TRIAL_PIECES - 1) * i;
            in += TRIAL_PIECE;
            out += deflated_size(im->data + off, TRIAL_PIECE);
        }
    }
    im->trial_done = 1;
    im->trial_bytes = in;
    im->trial_ratio = in ? (double)out / (double)in : 1.0;
    im->trial_seconds = secs_since(t0);
    return im->trial_ratio;
}

#define ZLIB_PIECE 0x40000000u /* zlib counts in uInt: big images go in pieces */

/* Deflate the whole image into im->gz (cap bytes); the gzip size, or 0. */
static size_t deflate_all(up_image *im, z_stream *zs, size_t cap)
{
    size_t in_off = 0;
    int rc = Z_OK;
    zs->next_out = im->gz;
    zs->avail_out = cap > ZLIB_PIECE ? ZLIB_PIECE : (uInt)cap;
    while (rc == Z_OK) {
        if (zs->avail_in == 0 && in_off < im->size) {
            size_t n = im->size - in_off;
            if (n > ZLIB_PIECE)
                n = ZLIB_PIECE;
            zs->next_in = (Bytef *)(uintptr_t)(im->data + in_off);
            zs->avail_in = (uInt)n;
            in_off += n;
        }
        if (zs->avail_out == 0) {
            size_t left = cap - zs->total_out;
            zs->avail_out = left > ZLIB_PIECE ? ZLIB_PIECE : (uInt)left;
        }
        rc = deflate(zs, in_off == im->size ? Z_FINISH : Z_NO_FLUSH);
    }
    return rc == Z_STREAM_END ? (size_t)zs->total_out : 0;
}

/* Make im->gz; 0, or -1 with a message in err. */
static int make_gzip(up_image *im, char *err, size_t errlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* windowBits 15 + 16: a gzip wrapper (no name, mtime 0), which stock
     * ESP8266 boot loaders and eota devices both inflate. */
    if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
        snprintf(err, errlen, "zlib: cannot start compression");
        return -1;
    }
    size_t cap = deflateBound(&zs, (uLong)im->size) + 64;
    im->gz = malloc(cap);
    if (!im->gz) {
        deflateEnd(&zs);
        snprintf(err, errlen, "out of memory for the gzip version");
        return -1;
    }
    size_t out = deflate_all(im, &zs, cap);
    deflateEnd(&zs);
    if (out == 0 || out > UP_IMAGE_MAX) {
        snprintf(err, errlen, "zlib: compression failed");
        return -1;
    }
    im->gz_size = out;
    if (eota_posix_digest(EOTA_HASH_MD5, im->gz, out, im->gz_md5) != EOTA_OK) {
        snprintf(err, errlen, "MD5 of the gzip version failed (OpenSSL)");
        return -1;
    }
    return 0;
}

int up_image_compress(up_image *im, char *err, size_t errlen)
{
    if (im->gz_state == 1)
        return 0;
    if (im->gz_state == -1) {
        snprintf(err, errlen, "gzip compression failed before");
        return -1;
    }
    uint64_t t0 = eota_posix_now_ms64();
    if (make_gzip(im, err, errlen) != 0) {
        free(im->gz);
        im->gz = NULL;
        im->gz_size = 0;
        im->gz_state = -1;
        return -1;
    }
    im->gzb.data = im->gz;
    im->gzb.len = im->gz_size;
    im->gz_state = 1;
    im->compress_seconds = secs_since(t0);
    return 0;
}

static int blob_read(void *ctx, uint32_t offset, uint8_t *buf, size_t len)
{
    const up_blob *b = ctx;
    if ((size_t)offset > b->len || len > b->len - offset)
        return EOTA_EINVAL;
    memcpy(buf, b->data + offset, len);
    return EOTA_OK;
}

eota_client_image up_image_raw(up_image *im)
{
    eota_client_image img;
    memset(&img, 0, sizeof img);
    img.read = blob_read;
    img.ctx = &im->raw;
    img.size = (uint32_t)im->size;
    memcpy(img.md5, im->md5, sizeof img.md5);
    return img;
}

eota_client_image up_image_gzip(up_image *im)
{
    eota_client_image img;
    memset(&img, 0, sizeof img);
    if (im->gz_state != 1)
        return img;
    img.read = blob_read;
    img.ctx = &im->gzb;
    img.size = (uint32_t)im->gz_size;
    memcpy(img.md5, im->gz_md5, sizeof img.md5);
    return img;
}

/* --- a signed image (docs/signed-images.md): what its trailer says --- */
int up_image_signature(const up_image *im, char *out, size_t outlen)
{
    eota_sig_info in;
    const char *why;
    size_t tail = im->size < EOTA_SIG_TRAILER_MAX ? im->size : EOTA_SIG_TRAILER_MAX;
    if (eota_sig_parse(im->data + im->size - tail, tail, &in, &why) != EOTA_OK)
        return 0;
    size_t k = (size_t)snprintf(out, outlen, "a signed image: version %.*s, security counter %u, key%s",
                                in.version_len, in.version, in.counter, in.nsigs > 1 ? "s" : "");
    for (uint8_t i = 0; i < in.nsigs && k < outlen; i++) {
        char id[SIGN_KEY_ID_LEN + 1];
        sign_key_id(in.keyhash[i], id);
        k += (size_t)snprintf(out + k, outlen - k, "%s %s", i ? "," : "", id);
    }
    return 1;
}
