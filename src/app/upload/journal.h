/*
 * journal.h: the rollout journal of `eota upload --journal FILE`: one
 * record per device, its outcome and the SHA-256 of the image it received,
 * so that running the same command again skips the devices that are done.
 *
 * The file is JSON (an object with a "devices" array, written with cJSON),
 * and it is only ever replaced whole: each record rewrites it into
 * FILE.tmp, fsyncs that, renames it over FILE and fsyncs the folder. A crash
 * or a power cut at any moment leaves either the journal before the record
 * or the one after it, never a torn one, so a finished record is never lost
 * once up_journal_record has returned.
 */
#ifndef EOTA_APP_UPLOAD_JOURNAL_H
#define EOTA_APP_UPLOAD_JOURNAL_H

#include <stddef.h>

typedef struct up_journal {
    char *path;
    void *root; /* cJSON object */
    unsigned saves; /* records written by this run */
} up_journal;

/* Open FILE: read it when it exists (a journal that is not one is an error
 * naming the file and what is wrong), else start empty. 0, or -1 with a
 * message in err. */
int up_journal_open(up_journal *jr, const char *path, char *err, size_t errlen);
void up_journal_free(up_journal *jr);

/* The outcome recorded for device with this image ("installed", "failed",
 * ...), or NULL when there is none for this image. */
const char *up_journal_outcome(const up_journal *jr, const char *device, const char *sha256_hex);

/* Record (or replace) the device's outcome and write the journal through.
 * reason may be NULL. 0, or -1 with a message in err (the journal on disk
 * is then the one before). */
int up_journal_record(up_journal *jr, const char *device, const char *sha256_hex, const char *outcome,
                      const char *reason, char *err, size_t errlen);

#endif
