/*
 * storage.h: the storage backend of `eota device`, built in one place as a
 * stack of layers (eota/backend.h), top to bottom:
 *
 *   simulate: flash speed     sim_layers.h (only with flash_write_speed)
 *   simulate: fail_at         sim_layers.h (only with fail_at)
 *   gzip inflation            eota/gzip_layer.h (only when the profile
 *                             accepts gzip)
 *   signature check           eota/sig_layer.h via sign/sig_stack.h (only
 *                             with ota signature:), on the inflated image
 *   slot store                eota/slotstore.h: the inactive slot, the boot
 *                             state's prepare and install
 *   over files                eota/filestore.h: .part, fsync, rename
 *
 * The native engine and the web upload both write through it. A further
 * layer (a signature check, decryption) is one more entry in storage.c.
 *
 * On a read-only state directory, begin is refused (EOTA_EPREPARE) and the
 * detail says updates are off until it is writable.
 *
 * On top, the stack's detail() adds the boot state's status to the layers'
 * sentence when the boot state was what failed; the engine and the web
 * upload read it through the ingest (eota/ingest.h), as for any backend.
 */
#ifndef EOTA_APP_STORAGE_H
#define EOTA_APP_STORAGE_H

#include <stdint.h>

#include "config/config.h"
#include "eota/backend.h"
#include "eota/filestore.h"
#include "eota/gzip_layer.h"
#include "eota/slotstore.h"
#include "sign/sig_stack.h"
#include "sim_layers.h"
#include "slots.h"

typedef struct eota_storage {
    eota_backend backend;      /* the stack, as the engine and the web use it */
    char why[256];             /* detail() composes its sentence here */
    /* the layers, bottom up */
    eota_filestore files;
    eota_slotstore store;
    eota_sig_stack sig;        /* signature check (sign/sig_stack.h) */
    eota_gzip_layer gzip;
    eota_sim_fail fail;
    eota_sim_speed speed;
    eota_backend top;          /* the top layer, under the detail */
    const eota_slots *slots;   /* a read-only state directory: begin refused */
    int refused;               /* ... and detail() says why */
} eota_storage;

/* Build the stack for the config over the device's slots (open, and
 * outliving st). Returns st->backend. */
eota_backend eota_storage_stack(eota_storage *st, eota_slots *slots, const eota_config *cfg);

#endif
