/*
 * slotrecord.c: the record beside a slot file (eota/slotrecord.h): one
 * line of text written through a .tmp file, fsync, rename and the fsync of
 * the directory; read back with sscanf's grammar; and the check of a slot
 * file's size and CRC-32, which a file this process wrote and has not been
 * changed since skips (the vouched files below).
 */
#include "eota/slotrecord.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eota/filestore.h"

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

/* fsync the directory holding path, so that a rename in it is durable. */
int eota_fsync_dir_of(const char *path)
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
    if (eota_fsync_dir_of(path) != 0)
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

/* --- vouched files ---
 *
 * A slot file this process wrote, whose CRC-32 it computed while the bytes
 * went by and which it fsync'd: while the file keeps its identity (device,
 * inode, size, modification and change times, to the nanosecond), its
 * check needs no second pass. Read back in this process, its bytes would
 * come from the page cache, proving nothing about the disk; any write,
 * truncation or replacement since changes the identity (a write within the
 * file system's timestamp tick of the install, a few milliseconds on ext4,
 * can keep the times: such a change is seen at the next start), and a new
 * process (a real boot) starts with no vouched file, so it reads every
 * slot. */

#define VOUCHED_MAX 4

typedef struct vouched_file {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    uint32_t crc;
} vouched_file;

static vouched_file vouched[VOUCHED_MAX];
static unsigned vouched_next;
static pthread_mutex_t vouched_lock = PTHREAD_MUTEX_INITIALIZER;

static int same_time(struct timespec a, struct timespec b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

static int same_file(const vouched_file *v, const struct stat *st)
{
    return v->dev == st->st_dev && v->ino == st->st_ino && v->size == st->st_size && v->size > 0 &&
           same_time(v->mtime, st->st_mtim) && same_time(v->ctime, st->st_ctim);
}

int eota_slot_file_vouch(const char *path, uint32_t crc)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    vouched_file v = {st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim, crc};
    pthread_mutex_lock(&vouched_lock);
    for (unsigned i = 0; i < VOUCHED_MAX; i++)
        if (vouched[i].dev == v.dev && vouched[i].ino == v.ino)
            memset(&vouched[i], 0, sizeof vouched[i]); /* an older identity of the same file */
    vouched[vouched_next++ % VOUCHED_MAX] = v;
    pthread_mutex_unlock(&vouched_lock);
    return 0;
}

/* 1 when st is a vouched file with this CRC-32, else 0. */
static int is_vouched(const struct stat *st, uint32_t crc)
{
    int yes = 0;
    pthread_mutex_lock(&vouched_lock);
    for (unsigned i = 0; i < VOUCHED_MAX && !yes; i++)
        yes = same_file(&vouched[i], st) && vouched[i].crc == crc;
    pthread_mutex_unlock(&vouched_lock);
    return yes;
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
    if (is_vouched(&st, crc))
        return 1;
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
