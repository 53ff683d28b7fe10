/*
 * eota/sig_layer.h: the signature check as a storage layer (eota/backend.h).
 * It sits on the slot store, under any layer that turns the received bytes
 * into the image (gzip inflation), so it sees the image as it will be
 * installed, and:
 *
 *   - hashes the image (SHA-256) while it arrives, forwarding every byte to
 *     the layer below except the last EOTA_SIG_TRAILER_MAX, which it holds
 *     back (the trailer is at the end, and a stream does not say where the
 *     end is);
 *   - at end: finds the footer in what it holds, forwards the rest of the
 *     payload (never the trailer: the slot gets the firmware as built),
 *     checks the digest, the signatures against the trusted keys, then the
 *     security counter and the version against the running image's;
 *   - only then calls the layer below's end, which installs the image (the
 *     boot state changes there). A refusal aborts the layer below: nothing
 *     is installed. EOTA_ESIGNATURE (answered 8D) for an unsigned image when
 *     a signature is required, a malformed trailer, or no good signature by
 *     a trusted key; EOTA_EDOWNGRADE (answered 93) for a counter lower than
 *     the running image's, or a lower version when downgrades are refused.
 *
 * An unsigned image, when the signature is not required, is installed as
 * it arrived (trailer-less). A signed one is always checked.
 *
 * begin's size is forwarded as it is, and the layer below receives fewer
 * bytes (the payload): it must take the size as an upper bound (the slot
 * store: eota_slotstore_config.size_is_bound = 1).
 */
#ifndef EOTA_SIG_LAYER_H
#define EOTA_SIG_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "eota/backend.h"
#include "eota/crypto.h"
#include "eota/private_access.h"
#include "eota/signature.h"
#include "eota/verify.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the running image's trailer said (known 0: unsigned or unknown,
 * nothing to compare with). */
typedef struct eota_sig_running {
    uint8_t known;
    uint8_t version_len;
    uint32_t counter;
    char version[EOTA_SIG_VERSION_MAX];
} eota_sig_running;

typedef struct eota_sig_layer_config {
    eota_backend inner;          /* the slot store (or a layer over it) */
    eota_hash hash;              /* SHA-256; an instance of its own */
    eota_verify verify;
    const eota_sig_key *keys;    /* trusted keys (eota_sig_key_init), nkeys >= 1 */
    size_t nkeys;
    uint8_t required;            /* refuse an unsigned image */
    uint8_t allow_downgrade;     /* take a lower version (never a lower counter) */
    /* Optional: the running image's fields, asked at each end. */
    void (*running)(void *ctx, eota_sig_running *out);
    /* Optional: the image is accepted (info NULL: unsigned), just before the
     * layer below installs it; a negative status refuses it. The device
     * records the new image's counter and version here. */
    int (*accepted)(void *ctx, const eota_sig_info *info);
    void *ctx;                   /* for running and accepted */
} eota_sig_layer_config;

/* Private state (EOTA_PRIVATE): init, seam, the last image's info. */
typedef struct eota_sig_layer {
    eota_sig_layer_config EOTA_PRIVATE(cfg);
    uint8_t EOTA_PRIVATE(state);
    uint8_t EOTA_PRIVATE(is_signed);
    uint8_t EOTA_PRIVATE(own_failure);
    uint32_t EOTA_PRIVATE(forwarded);     /* payload bytes given to inner */
    size_t EOTA_PRIVATE(hold_len);
    size_t EOTA_PRIVATE(flushed);         /* at end: held payload forwarded */
    size_t EOTA_PRIVATE(tail_payload);    /* at end: held bytes that are payload */
    const char *EOTA_PRIVATE(why);
    eota_sig_info EOTA_PRIVATE(info);
    uint8_t EOTA_PRIVATE(hold)[EOTA_SIG_TRAILER_MAX];
} eota_sig_layer;

/* EOTA_OK, or EOTA_EINVAL (a seam missing, no key). */
int eota_sig_layer_init(eota_sig_layer *l, const eota_sig_layer_config *cfg);
/* The layer as a backend: {&ops, l, inner caps}. */
eota_backend eota_sig_layer_seam(eota_sig_layer *l);
/* The last accepted image's trailer (valid until the next begin), or NULL
 * (unsigned, or none accepted). */
const eota_sig_info *eota_sig_layer_info(const eota_sig_layer *l);

#ifdef __cplusplus
}
#endif

#endif
