/*
 * eota/fileflash.h: a file used as a NOR flash (src/port/posix/fileflash.c),
 * so that a Linux device (`eota device`) keeps its boot state with the same
 * core modules as a microcontroller (eota/bootstate.h over eota/flash.h).
 * Uniform sectors; the NOR rules are enforced as by the simulator (a program
 * over bytes that do not read as erased is refused); every program and erase
 * is followed by fsync, so each completed operation is durable.
 */
#ifndef EOTA_FILEFLASH_H
#define EOTA_FILEFLASH_H

#include <stdint.h>

#include "eota/flash.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eota_fileflash {
    int fd;
    uint32_t size;
    uint32_t sector_size;
    uint32_t write_align;
    uint8_t erased;
    uint8_t no_sync;       /* tests: skip fsync */
    uint8_t read_only;     /* opened read-only: program and erase fail (EIO) */
} eota_fileflash;

/* Open the file, or create it (every byte erased) when missing. An existing
 * file of another size is refused (EOTA_EINVAL). A file that cannot be
 * written (a read-only file system, no permission) is opened read-only
 * (read_only set). sectors x sector_size bytes;
 * sector_size a multiple of write_align (1..32). EOTA_OK, EOTA_EINVAL or
 * EOTA_EIO (errno set). */
int eota_fileflash_open(eota_fileflash *ff, const char *path, uint32_t sectors, uint32_t sector_size,
                        uint32_t write_align, uint8_t erased);
void eota_fileflash_close(eota_fileflash *ff);
eota_flash eota_fileflash_seam(eota_fileflash *ff);

#ifdef __cplusplus
}
#endif

#endif
