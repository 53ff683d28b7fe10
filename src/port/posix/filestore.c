/*
 * filestore.c: the file medium of the slot store (eota/filestore.h): the
 * old slot file removed first, a .part file, fsync, rename over the slot
 * file, fsync of the directory, a read-back, and the record beside the
 * slot (SLOT.check) that boot checks and rebuilds read.
 */
#include "eota/filestore.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

/* A failure: the status, and its detail for the logs. */
static int fs_fail(eota_filestore *fs, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fs_fail(eota_filestore *fs, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fs->why, sizeof fs->why, fmt, ap);
    va_end(ap);
    return status;
}

/* fsync the directory holding path, so that a rename in it is durable. */
static int fsync_dir_of(const char *path)
{
    char dir[EOTA_FILESTORE_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

static uint32_t fs_capacity(void *ctx, int slot)
{
    const eota_filestore *fs = ctx;
    return slot >= 0 && slot < EOTA_BOOT_SLOTS ? fs->capacity : 0;
}

/* A sentence into err; returns ret. */
static int say(char *err, size_t errlen, int ret, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int say(char *err, size_t errlen, int ret, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return ret;
}

/* SLOT.check beside a slot file. */
static void record_path(char *buf, size_t len, const char *slot_path)
{
    snprintf(buf, len, "%s.check", slot_path);
}

/* Remove a file that may be missing. 0, or -1 (errno). */
static int remove_file(const char *path) { return unlink(path) == 0 || errno == ENOENT ? 0 : -1; }

/* The target slot holds nothing bootable (the boot state says so): its
 * record and its old image go before the new one is written, so that an
 * update needs room for two images (the running one and the new one). */
static int free_slot(eota_filestore *fs, int slot)
{
    char rec[EOTA_FILESTORE_PATH_MAX + 16];
    record_path(rec, sizeof rec, fs->path[slot]);
    if (remove_file(rec) != 0)
        return fs_fail(fs, EOTA_EPREPARE, "removing %s: %s", rec, strerror(errno));
    if (remove_file(fs->path[slot]) != 0)
        return fs_fail(fs, EOTA_EPREPARE, "removing %s: %s", fs->path[slot], strerror(errno));
    return EOTA_OK;
}

static int fs_open(void *ctx, int slot)
{
    eota_filestore *fs = ctx;
    eota_filestore_close(fs);
    fs->why[0] = '\0';
    fs->slot = slot;
    fs->part[0] = '\0';
    int st = free_slot(fs, slot);
    if (st != EOTA_OK)
        return st;
    snprintf(fs->part, sizeof fs->part, "%s.part", fs->path[slot]);
    fs->fd = open(fs->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (fs->fd < 0)
        return fs_fail(fs, EOTA_EPREPARE, "%s: %s", fs->part, strerror(errno));
    return EOTA_OK;
}

static int fs_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    eota_filestore *fs = ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fs->fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return fs_fail(fs, EOTA_EWRITE, "%s: %s", fs->part, strerror(errno));
        done += (size_t)w;
    }
    *taken = done;
    return EOTA_OK;
}

/* fsync and rename the part file over the slot's, then fsync the folder. */
static int fs_finish(void *ctx)
{
    eota_filestore *fs = ctx;
    const char *final = fs->path[fs->slot];
    int r = fsync(fs->fd);
    if (close(fs->fd) != 0)
        r = -1;
    fs->fd = -1;
    if (r != 0)
        return fs_fail(fs, EOTA_ECOMMIT, "%s: %s", fs->part, strerror(errno));
    if (rename(fs->part, final) != 0)
        return fs_fail(fs, EOTA_ECOMMIT, "renaming %s to %s: %s", fs->part, final, strerror(errno));
    fs->part[0] = '\0'; /* renamed: nothing left to remove */
    if (fsync_dir_of(final) != 0)
        return fs_fail(fs, EOTA_ECOMMIT, "committing %s (fsync of its directory): %s", final, strerror(errno));
    return EOTA_OK;
}

/* Read the slot file back, then write its record beside it (install
 * number one past the other slot's). */
static int fs_verify(void *ctx, uint32_t size, uint32_t crc)
{
    eota_filestore *fs = ctx;
    const char *final = fs->path[fs->slot];
    char err[sizeof fs->why];
    if (eota_slot_file_check(final, size, crc, err, sizeof err) != 1)
        return fs_fail(fs, EOTA_EVERIFY, "%s", err);
    eota_slot_record other, r = {size, crc, 1, 0};
    if (eota_slot_record_read(fs->path[1 - fs->slot], &other, err, sizeof err) == 0)
        r.install = other.install + 1u;
    if (eota_slot_record_write(final, &r, err, sizeof err) != 0)
        return fs_fail(fs, EOTA_ECOMMIT, "%s", err);
    return EOTA_OK;
}

static void fs_discard(void *ctx) { eota_filestore_close(ctx); }

static const char *fs_why(void *ctx)
{
    const eota_filestore *fs = ctx;
    return fs->why[0] ? fs->why : NULL;
}

static const eota_slot_medium_ops filestore_ops = {fs_capacity, fs_open,    fs_write, fs_finish,
                                                   fs_verify,   fs_discard, fs_why};

int eota_filestore_init(eota_filestore *fs, const char *slot_a, const char *slot_b, uint32_t capacity)
{
    memset(fs, 0, sizeof *fs);
    fs->fd = -1;
    fs->capacity = capacity;
    const char *p[EOTA_BOOT_SLOTS] = {slot_a, slot_b};
    for (int i = 0; i < EOTA_BOOT_SLOTS; i++) {
        if (!p[i] || strlen(p[i]) >= sizeof fs->path[i])
            return EOTA_EINVAL;
        memcpy(fs->path[i], p[i], strlen(p[i]) + 1);
    }
    return EOTA_OK;
}

eota_slot_medium eota_filestore_medium(eota_filestore *fs)
{
    eota_slot_medium m = {&filestore_ops, fs};
    return m;
}

void eota_filestore_close(eota_filestore *fs)
{
    if (fs->fd >= 0) {
        close(fs->fd);
        fs->fd = -1;
    }
    if (fs->part[0])
        unlink(fs->part);
}

uint32_t eota_filestore_crc32(uint32_t crc, const void *data, size_t len)
{
    const Bytef *p = data;
    while (len > 0) {
        uInt n = len > UINT_MAX ? UINT_MAX : (uInt)len;
        crc = (uint32_t)crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return crc;
}

/* --- the record beside a slot, and the check of a slot file --- */

#define RECORD_FORMAT "eota-slot size=%" PRIu32 " crc=%08" PRIx32 " install=%" PRIu32 " confirmed=%u\n"
#define RECORD_SCAN "eota-slot size=%" SCNu32 " crc=%" SCNx32 " install=%" SCNu32 " confirmed=%u"

int eota_slot_record_read(const char *slot_path, eota_slot_record *r, char *err, size_t errlen)
{
    char path[EOTA_FILESTORE_PATH_MAX + 16];
    record_path(path, sizeof path, slot_path);
    FILE *f = fopen(path, "re");
    if (!f)
        return say(err, errlen, -1, "%s: %s", path, strerror(errno));
    unsigned confirmed = 0;
    int n = fscanf(f, RECORD_SCAN, &r->size, &r->crc, &r->install, &confirmed);
    fclose(f);
    if (n != 4 || confirmed > 1)
        return say(err, errlen, -1, "%s: not a slot record (damaged)", path);
    r->confirmed = (uint8_t)confirmed;
    return 0;
}

/* Write the record into the open tmp file and make it durable. */
static int put_record(FILE *f, const eota_slot_record *r)
{
    int ok = fprintf(f, RECORD_FORMAT, r->size, r->crc, r->install, (unsigned)r->confirmed) > 0 &&
             fflush(f) == 0 && fsync(fileno(f)) == 0;
    int e = errno;
    if (fclose(f) != 0)
        ok = 0;
    else
        errno = e;
    return ok ? 0 : -1;
}

int eota_slot_record_write(const char *slot_path, const eota_slot_record *r, char *err, size_t errlen)
{
    char path[EOTA_FILESTORE_PATH_MAX + 16], tmp[EOTA_FILESTORE_PATH_MAX + 24];
    record_path(path, sizeof path, slot_path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "we");
    if (!f)
        return say(err, errlen, -1, "%s: %s", tmp, strerror(errno));
    if (put_record(f, r) != 0) {
        int e = errno;
        unlink(tmp);
        return say(err, errlen, -1, "%s: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return say(err, errlen, -1, "%s: %s", path, strerror(e));
    }
    if (fsync_dir_of(path) != 0)
        return say(err, errlen, -1, "%s: %s", path, strerror(errno));
    return 0;
}

int eota_slot_record_remove(const char *slot_path, char *err, size_t errlen)
{
    char path[EOTA_FILESTORE_PATH_MAX + 16];
    record_path(path, sizeof path, slot_path);
    return remove_file(path) == 0 ? 0 : say(err, errlen, -1, "removing %s: %s", path, strerror(errno));
}

/* The CRC-32 of the first `size` bytes of fd; 0, or -1 (errno). */
static int crc_of_fd(int fd, uint32_t size, uint32_t *crc)
{
    uint8_t buf[65536];
    *crc = 0;
    while (size > 0) {
        ssize_t n = read(fd, buf, size < sizeof buf ? size : sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        *crc = eota_filestore_crc32(*crc, buf, (size_t)n);
        size -= (uint32_t)n;
    }
    return 0;
}

/* Size and CRC of an open slot file against the record's: 1, 0 or -1. */
static int check_fd(int fd, const char *path, uint32_t size, uint32_t crc, char *err, size_t errlen)
{
    struct stat st;
    uint32_t got;
    if (fstat(fd, &st) != 0)
        return say(err, errlen, -1, "%s: %s", path, strerror(errno));
    if ((uint64_t)st.st_size != size)
        return say(err, errlen, 0, "%s: size %lld bytes, expected %" PRIu32, path, (long long)st.st_size,
                   size);
    if (crc_of_fd(fd, size, &got) != 0)
        return say(err, errlen, -1, "%s: %s", path, errno ? strerror(errno) : "shorter than it was");
    if (got != crc)
        return say(err, errlen, 0, "%s: CRC-32 %08" PRIx32 ", expected %08" PRIx32, path, got, crc);
    return 1;
}

int eota_slot_file_check(const char *path, uint32_t size, uint32_t crc, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return say(err, errlen, errno == ENOENT ? 0 : -1, "%s: %s", path,
                   errno == ENOENT ? "missing" : strerror(errno));
    int r = check_fd(fd, path, size, crc, err, errlen);
    close(fd);
    return r;
}
