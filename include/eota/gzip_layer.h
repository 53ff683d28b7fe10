/*
 * eota/gzip_layer.h: gzip inflation as a layer over any storage backend
 * (eota/backend.h; src/port/posix/gzip_layer.c, zlib). When the engine and
 * the uploader agreed on gzip (eota_begin_info.gzip_agreed), the first two
 * bytes decide: 1F 8B is a gzip stream, inflated on the way to the inner
 * backend; anything else passes through raw, as it does when gzip was not
 * agreed. begin_info goes to the inner backend unchanged: with gzip agreed
 * it knows that the wire size does not bound the image.
 *
 * Failures of its own, with their detail: a corrupt stream and bytes after
 * the end of the stream are EOTA_EFORMAT (at write), a stream that stops
 * short is EOTA_EVERIFY (at end), zlib that cannot start EOTA_EPREPARE.
 * The inner backend may take part of what it is given: the layer keeps the
 * rest of its output and takes no more input until that is gone, so the
 * caller sees the inner backend's pace.
 */
#ifndef EOTA_GZIP_LAYER_H
#define EOTA_GZIP_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "eota/private_access.h"
#include "eota/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EOTA_GZIP_LAYER_OUT 16384u /* inflated bytes held for the inner backend */

/* Private state (EOTA_PRIVATE): read it through the functions. */
typedef struct eota_gzip_layer {
    eota_backend EOTA_PRIVATE(inner);
    void *EOTA_PRIVATE(zs);             /* the z_stream while inflating, else NULL */
    uint8_t EOTA_PRIVATE(begun);
    uint8_t EOTA_PRIVATE(agreed);       /* gzip agreed for this upload */
    uint8_t EOTA_PRIVATE(sniffed);      /* raw or gzip decided */
    uint8_t EOTA_PRIVATE(done);         /* the end of the gzip stream seen */
    uint8_t EOTA_PRIVATE(more);         /* zlib may hold more output */
    uint8_t EOTA_PRIVATE(head)[2];      /* the first bytes, while deciding */
    size_t EOTA_PRIVATE(head_len);
    size_t EOTA_PRIVATE(out_off), EOTA_PRIVATE(out_len);
    const char *EOTA_PRIVATE(why);      /* detail of the layer's own failure, or NULL */
    uint8_t EOTA_PRIVATE(out)[EOTA_GZIP_LAYER_OUT];
} eota_gzip_layer;

void eota_gzip_layer_init(eota_gzip_layer *g, eota_backend inner);
/* The layer as a backend: the inner one's caps plus EOTA_BACKEND_CAP_GZIP. */
eota_backend eota_gzip_layer_seam(eota_gzip_layer *g);

#ifdef __cplusplus
}
#endif

#endif
