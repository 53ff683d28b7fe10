/*
 * journal.c: the rollout journal (journal.h), read and written with cJSON,
 * replaced whole through a temporary file, fsync and rename.
 */
#include "upload/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "eota/slotrecord.h" /* eota_fsync_dir_of */

#define JOURNAL_FORMAT 1

/* The whole file into a string; NULL when it does not exist (errno ENOENT)
 * or cannot be read. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *b = realloc(buf, cap);
            if (!b)
                break;
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The line of a byte offset, for an error message. */
static size_t line_of(const char *text, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off && text[i]; i++)
        line += text[i] == '\n';
    return line;
}

static int check_shape(const cJSON *root, const char *path, char *err, size_t errlen)
{
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "eota_journal");
    const cJSON *devs = cJSON_GetObjectItemCaseSensitive(root, "devices");
    if (!cJSON_IsObject(root) || !cJSON_IsNumber(fmt) || !cJSON_IsArray(devs)) {
        snprintf(err, errlen, "%s: not an eota journal (an object with \"eota_journal\" and \"devices\" expected)",
                 path);
        return -1;
    }
    if (fmt->valueint != JOURNAL_FORMAT) {
        snprintf(err, errlen, "%s: journal format %d, this eota reads format %d", path, fmt->valueint,
                 JOURNAL_FORMAT);
        return -1;
    }
    return 0;
}

static cJSON *empty_journal(void)
{
    cJSON *root = cJSON_CreateObject();
    if (root && (!cJSON_AddNumberToObject(root, "eota_journal", JOURNAL_FORMAT) ||
                 !cJSON_AddArrayToObject(root, "devices"))) {
        cJSON_Delete(root);
        root = NULL;
    }
    return root;
}

int up_journal_open(up_journal *jr, const char *path, char *err, size_t errlen)
{
    memset(jr, 0, sizeof *jr);
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text && errno != ENOENT) {
        snprintf(err, errlen, "cannot read the journal %s: %s", path, strerror(errno));
        return -1;
    }
    cJSON *root = text ? cJSON_ParseWithLength(text, len) : empty_journal();
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = text && at && at >= text && at <= text + len ? (size_t)(at - text) : 0;
        if (text)
            snprintf(err, errlen, "%s:%zu: the journal is not valid JSON", path, line_of(text, off));
        else
            snprintf(err, errlen, "out of memory");
        free(text);
        return -1;
    }
    free(text);
    if (check_shape(root, path, err, errlen) != 0) {
        cJSON_Delete(root);
        return -1;
    }
    jr->root = root;
    jr->path = strdup(path);
    return 0;
}

void up_journal_free(up_journal *jr)
{
    cJSON_Delete(jr->root);
    free(jr->path);
    memset(jr, 0, sizeof *jr);
}

static cJSON *find_record(const up_journal *jr, const char *device)
{
    cJSON *rec;
    cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(jr->root, "devices"))
    {
        const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "device"));
        if (d && strcmp(d, device) == 0)
            return rec;
    }
    return NULL;
}

const char *up_journal_outcome(const up_journal *jr, const char *device, const char *sha256_hex)
{
    const cJSON *rec = find_record(jr, device);
    const char *sha = rec ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "sha256")) : NULL;
    if (!sha || strcmp(sha, sha256_hex) != 0)
        return NULL;
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "outcome"));
}

static cJSON *make_record(const char *device, const char *sha256_hex, const char *outcome, const char *reason)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    cJSON *rec = cJSON_CreateObject();
    if (rec && (!cJSON_AddStringToObject(rec, "device", device) ||
                !cJSON_AddStringToObject(rec, "sha256", sha256_hex) ||
                !cJSON_AddStringToObject(rec, "outcome", outcome) ||
                !(reason ? cJSON_AddStringToObject(rec, "reason", reason) : cJSON_AddNullToObject(rec, "reason")) ||
                !cJSON_AddStringToObject(rec, "time", when))) {
        cJSON_Delete(rec);
        rec = NULL;
    }
    return rec;
}

/* Tests only: EOTA_TEST_JOURNAL_CUT=N ends the process like a power cut on
 * the Nth write of this run, after the new journal is written and before
 * it is renamed into place. */
static void maybe_cut(const up_journal *jr)
{
    const char *cut = getenv("EOTA_TEST_JOURNAL_CUT");
    if (cut && (unsigned)atoi(cut) == jr->saves)
        _exit(137);
}

static int write_through(up_journal *jr, const char *text, char *err, size_t errlen)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", jr->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t len = strlen(text), done = 0;
    while (fd >= 0 && done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno != EINTR)
            break;
        done += w > 0 ? (size_t)w : 0;
    }
    int ok = fd >= 0 && done == len && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    jr->saves++;
    if (ok)
        maybe_cut(jr);
    if (!ok || rename(tmp, jr->path) != 0 || eota_fsync_dir_of(jr->path) != 0) {
        snprintf(err, errlen, "cannot write the journal %s: %s", jr->path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int up_journal_record(up_journal *jr, const char *device, const char *sha256_hex, const char *outcome,
                      const char *reason, char *err, size_t errlen)
{
    cJSON *rec = make_record(device, sha256_hex, outcome, reason);
    cJSON *devs = cJSON_GetObjectItemCaseSensitive(jr->root, "devices");
    cJSON *old = find_record(jr, device);
    if (!rec || (old ? !cJSON_ReplaceItemViaPointer(devs, old, rec) : !cJSON_AddItemToArray(devs, rec))) {
        cJSON_Delete(rec);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *text = cJSON_Print(jr->root);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = write_through(jr, text, err, errlen);
    cJSON_free(text);
    return rc;
}
