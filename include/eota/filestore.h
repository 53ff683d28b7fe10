/*
 * eota/filestore.h: the file medium of the slot store (eota/slotstore.h),
 * for Linux (src/port/posix/filestore.c): each slot is a file, and an image
 * becomes that file only through durable steps:
 *
 *   open     the slot file and its record removed (the boot state says
 *            the slot is EMPTY already: an update needs room for two
 *            images, not three; the old file's blocks are freed by a
 *            thread that closes its last descriptor, joined before a write
 *            that finds the disk full is tried again), SLOT.part created
 *   write    into the .part file (all of it, or an error: EOTA_EWRITE)
 *   finish   fsync and close the .part file, rename it over the slot file,
 *            fsync the directory (EOTA_ECOMMIT on failure)
 *   verify   the slot file read back (size and CRC-32), then its record
 *            written beside it: SLOT.check (EOTA_EVERIFY, EOTA_ECOMMIT)
 *   discard  the .part file closed and removed
 *
 * A crash at any point leaves the slot file as it was, or the complete new
 * one (the boot state still says EMPTY until the store installs it). Each
 * failure's detail names the file and the system's error.
 *
 * The record beside a slot (SLOT.check, eota/slotrecord.h) lets the device
 * check a slot file at boot and rebuild a lost boot state from what the
 * slots hold (src/app/slots_check.c).
 */
#ifndef EOTA_FILESTORE_H
#define EOTA_FILESTORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "eota/private_access.h"
#include "eota/slotrecord.h"
#include "eota/slotstore.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EOTA_FILESTORE_PATH_MAX 4096

/* Private state (EOTA_PRIVATE): read it through the functions. */
typedef struct eota_filestore {
    char EOTA_PRIVATE(path)[EOTA_BOOT_SLOTS][EOTA_FILESTORE_PATH_MAX]; /* the slot files */
    char EOTA_PRIVATE(part)[EOTA_FILESTORE_PATH_MAX + 8];              /* the one being written */
    uint32_t EOTA_PRIVATE(capacity);    /* bytes a slot holds */
    int EOTA_PRIVATE(slot);             /* the slot being written */
    int EOTA_PRIVATE(fd);               /* its .part file, or -1 */
    uint64_t EOTA_PRIVATE(written);     /* bytes written to it */
    uint64_t EOTA_PRIVATE(flushed);     /* bytes whose write-back was started */
    pthread_t EOTA_PRIVATE(reaper);     /* closes the old image's file (its blocks freed) */
    int EOTA_PRIVATE(reaping);          /* reaper runs and is to be joined */
    char EOTA_PRIVATE(why)[EOTA_FILESTORE_PATH_MAX + 256];
} eota_filestore;

/* slot_a and slot_b: the two slot files (in one directory, which must
 * exist); capacity: the largest image. EOTA_OK, or EOTA_EINVAL (a path too
 * long). */
int eota_filestore_init(eota_filestore *fs, const char *slot_a, const char *slot_b, uint32_t capacity);
eota_slot_medium eota_filestore_medium(eota_filestore *fs);
/* Close and remove an upload in progress (as discard). */
void eota_filestore_close(eota_filestore *fs);

/* CRC-32 with the polynomial of eota_crc32, much faster: ISA-L's folding
 * CRC where the build found it, else zlib's; for
 * eota_slotstore_config.crc32. */
uint32_t eota_filestore_crc32(uint32_t crc, const void *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif
