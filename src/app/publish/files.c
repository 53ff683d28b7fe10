/*
 * files.c: the files of `eota publish` (publish.h): the firmware read and
 * hashed (MD5 for ESPHome's check, SHA-256 for eota's), its signature
 * trailer read by the device's own parser (eota/signature.h), and files written
 * so that a reader sees the old content or the new, never a part: a
 * temporary file beside the target, fsync'd, renamed over it, and the
 * directory fsync'd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eota/posix.h"
#include "publish.h"

static void to_hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int pub_read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
        buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    int bad = !buf || n != (size_t)st.st_size || ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: cannot read it (not a regular file, or a read error)", path);
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* A signed image's trailer into img->sig: 0, or -1 when it claims a
 * trailer that does not parse (a device would refuse the image). */
static int read_signature(const char *file, pub_image *img, char *err, size_t errlen)
{
    const char *why = "";
    if (!eota_sig_present(img->data, img->size))
        return 0;
    if (eota_sig_parse(img->data, img->size, &img->sig, &why) != EOTA_OK ||
        (size_t)img->sig.payload_len + img->sig.trailer_len != img->size) {
        snprintf(err, errlen, "%s ends with a signature trailer that does not parse (%s): re-sign it with eota sign",
                 file, *why ? why : "the payload length and the trailer do not add up to the file's size");
        return -1;
    }
    img->is_signed = 1;
    return 0;
}

int pub_read_image(const char *file, pub_image *img, char *err, size_t errlen)
{
    char *data;
    size_t len;
    int rc = pub_read_file(file, &data, &len, err, errlen);
    if (rc == 1)
        snprintf(err, errlen, "%s: no such file", file);
    if (rc != 0)
        return -1;
    if (len == 0) {
        snprintf(err, errlen, "%s: the image is empty", file);
        free(data);
        return -1;
    }
    uint8_t md5[16], sha[32];
    if (eota_posix_digest(EOTA_HASH_MD5, data, len, md5) != 0 ||
        eota_posix_digest(EOTA_HASH_SHA256, data, len, sha) != 0) {
        snprintf(err, errlen, "hashing %s failed (OpenSSL)", file);
        free(data);
        return -1;
    }
    to_hex(md5, 16, img->md5);
    to_hex(sha, 32, img->sha256);
    img->data = (uint8_t *)data;
    img->size = len;
    return read_signature(file, img, err, errlen);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

void pub_mtime_after(const char *path, time_t old)
{
    struct stat st;
    if (old == 0 || stat(path, &st) != 0 || st.st_mtime > old)
        return;
    struct timespec t[2] = {{old + 1, 0}, {old + 1, 0}};
    (void)utimensat(AT_FDCWD, path, t, 0); /* at worst the old validator: a device sees it on a later check */
}

int pub_write_atomic(const char *dir, const char *name, const void *data, size_t len, char *err,
                     size_t errlen)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.%ld.tmp", dir, name, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    int bad = write_all(fd, data, len) != 0 || fsync(fd) != 0;
    int e = errno;
    if (close(fd) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad && rename(tmp, path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        snprintf(err, errlen, "writing %s: %s", path, strerror(e));
        unlink(tmp);
        return -1;
    }
    sync_dir(dir);
    return 0;
}
