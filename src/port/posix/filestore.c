/*
 * filestore.c: the file medium of the slot store (eota/filestore.h): the
 * old slot file removed first, a .part file, fsync, rename over the slot
 * file, fsync of the directory, a read-back, and the record beside the
 * slot (eota/slotrecord.h).
 */
#include "eota/filestore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#ifdef EOTA_HAVE_ISAL
#include <isa-l/crc.h>
#endif

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

static uint32_t fs_capacity(void *ctx, int slot)
{
    const eota_filestore *fs = ctx;
    return slot >= 0 && slot < EOTA_BOOT_SLOTS ? fs->capacity : 0;
}

/* The old image's last descriptor closes on a thread of its own: on ext4
 * that close frees the image's blocks, tens of milliseconds for a large
 * one, which the upload need not wait for. The name goes at once. */
static void *close_on_reaper(void *arg)
{
    close((int)(intptr_t)arg);
    return NULL;
}

/* Wait for the old image's blocks to be free (before a retry on a full
 * disk, and before the store opens or closes again). */
static void join_reaper(eota_filestore *fs)
{
    if (fs->reaping)
        pthread_join(fs->reaper, NULL);
    fs->reaping = 0;
}

static int unlink_image(eota_filestore *fs, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (unlink(path) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return -1;
    }
    if (fd >= 0 && pthread_create(&fs->reaper, NULL, close_on_reaper, (void *)(intptr_t)fd) != 0)
        close(fd); /* no thread: freed here */
    else
        fs->reaping = fd >= 0;
    return 0;
}

/* The target slot holds nothing bootable (the boot state says so): its
 * record and its old image go before the new one is written, so that an
 * update needs room for two images (the running one and the new one). */
static int free_slot(eota_filestore *fs, int slot)
{
    if (eota_slot_record_remove(fs->path[slot], fs->why, sizeof fs->why) != 0)
        return EOTA_EPREPARE;
    if (unlink_image(fs, fs->path[slot]) != 0 && errno != ENOENT)
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
    fs->written = fs->flushed = 0;
    if (fs->fd < 0)
        return fs_fail(fs, EOTA_EPREPARE, "%s: %s", fs->part, strerror(errno));
    return EOTA_OK;
}

/* Start the disk write of what has piled up since the last call, without
 * waiting for it (Linux's sync_file_range): the final fsync then finds the
 * image mostly on disk already instead of writing all of it while the
 * uploader waits. Only a head start: fs_finish's fsync is still what makes
 * the image durable. */
#define WRITEBACK_STEP (4u << 20)
static void start_writeback(eota_filestore *fs)
{
    if (fs->written - fs->flushed < WRITEBACK_STEP)
        return;
#ifdef SYNC_FILE_RANGE_WRITE
    (void)sync_file_range(fs->fd, (off_t)fs->flushed, (off_t)(fs->written - fs->flushed),
                          SYNC_FILE_RANGE_WRITE);
#endif
    fs->flushed = fs->written;
}

static int fs_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    eota_filestore *fs = ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fs->fd, data + done, len - done);
        if (w < 0 && (errno == EINTR || (errno == ENOSPC && fs->reaping))) {
            join_reaper(fs); /* full: the old image's blocks may not be free yet */
            continue;
        }
        if (w < 0)
            return fs_fail(fs, EOTA_EWRITE, "%s: %s", fs->part, strerror(errno));
        done += (size_t)w;
    }
    fs->written += done;
    start_writeback(fs);
    *taken = done;
    return EOTA_OK;
}

/* fsync and rename the part file over the slot's, then fsync the folder. */
static int fs_finish(void *ctx)
{
    eota_filestore *fs = ctx;
    const char *final = fs->path[fs->slot];
    join_reaper(fs);
    int r = fsync(fs->fd);
    if (close(fs->fd) != 0)
        r = -1;
    fs->fd = -1;
    if (r != 0)
        return fs_fail(fs, EOTA_ECOMMIT, "%s: %s", fs->part, strerror(errno));
    if (rename(fs->part, final) != 0)
        return fs_fail(fs, EOTA_ECOMMIT, "renaming %s to %s: %s", fs->part, final, strerror(errno));
    fs->part[0] = '\0'; /* renamed: nothing left to remove */
    if (eota_fsync_dir_of(final) != 0)
        return fs_fail(fs, EOTA_ECOMMIT, "committing %s (fsync of its directory): %s", final, strerror(errno));
    return EOTA_OK;
}

/* Write the slot's record beside it (install number one past the other
 * slot's), with the size and the CRC-32 the slot store computed while the
 * bytes went by. The file is not read back: after the fsync a read would
 * come from the page cache, proving nothing about the disk, and it would be
 * a second pass over every byte (issue 16); the boot checks the file
 * against this record instead (slots_check.c). */
static int fs_verify(void *ctx, uint32_t size, uint32_t crc)
{
    eota_filestore *fs = ctx;
    const char *final = fs->path[fs->slot];
    char err[sizeof fs->why];
    eota_slot_record other, r = {size, crc, 1, 0};
    if (eota_slot_record_read(fs->path[1 - fs->slot], &other, err, sizeof err) == 0)
        r.install = other.install + 1u;
    if (eota_slot_record_write(final, &r, err, sizeof err) != 0)
        return fs_fail(fs, EOTA_ECOMMIT, "%s", err);
    eota_slot_file_vouch(final, crc); /* the boot that follows need not read it again */
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
    join_reaper(fs);
    if (fs->fd >= 0) {
        close(fs->fd);
        fs->fd = -1;
    }
    if (fs->part[0])
        unlink(fs->part);
}

#ifdef EOTA_HAVE_ISAL
uint32_t eota_filestore_crc32(uint32_t crc, const void *data, size_t len)
{
    return crc32_gzip_refl(crc, data, (uint64_t)len);
}
#else
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
#endif
