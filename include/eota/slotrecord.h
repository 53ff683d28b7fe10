/*
 * eota/slotrecord.h: the record beside a slot file of `eota device`
 * (src/port/posix/slotrecord.c): SLOT.check, one line of text with the
 * image's size, CRC-32, install number and whether it was confirmed;
 * written durably when the image is installed (eota/filestore.h), read to
 * check a slot file at boot and to rebuild a lost boot state
 * (src/app/slots_check.c). Also the check of a slot file against a size
 * and CRC-32, and the fsync of a directory after a rename in it.
 */
#ifndef EOTA_SLOTRECORD_H
#define EOTA_SLOTRECORD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The record beside a slot file. */
typedef struct eota_slot_record {
    uint32_t size;       /* image bytes */
    uint32_t crc;        /* their CRC-32 */
    uint32_t install;    /* 1 + the other slot's install number when written */
    uint8_t confirmed;   /* the image ran and was confirmed */
} eota_slot_record;

/* Read SLOT.check beside slot_path. 0, or -1 with a sentence naming the
 * file in err (missing, unreadable, not a record). */
int eota_slot_record_read(const char *slot_path, eota_slot_record *r, char *err, size_t errlen);
/* Write it durably (a .tmp file, fsync, rename, fsync of the directory).
 * 0, or -1 with a sentence in err. */
int eota_slot_record_write(const char *slot_path, const eota_slot_record *r, char *err, size_t errlen);
/* Remove SLOT.check (a missing one is fine). 0, or -1 with err. */
int eota_slot_record_remove(const char *slot_path, char *err, size_t errlen);
/* Check that the file holds exactly `size` bytes with this CRC-32: 1 yes,
 * 0 no (err says what differs), -1 unreadable (err says why). */
int eota_slot_file_check(const char *path, uint32_t size, uint32_t crc, char *err, size_t errlen);
/* This process wrote path (fsync'd) and computed its CRC-32 while writing:
 * until the file changes in any way (its device, inode, size, modification
 * or change time), eota_slot_file_check of it compares the size and this
 * CRC without reading the file again (a read would come from the page
 * cache). A new process vouches for nothing. 0, or -1 (stat failed). */
int eota_slot_file_vouch(const char *path, uint32_t crc);

/* fsync the directory holding path, so that a rename in it is durable.
 * 0, or -1 (errno). */
int eota_fsync_dir_of(const char *path);

#ifdef __cplusplus
}
#endif

#endif
