/*
 * sig_stack.h: the signature check in `eota device`'s storage stack
 * (storage.h): the core's layer (eota/sig_layer.h) over the slot store,
 * with the keys of the config's ota signature:, OpenSSL's seams, and the
 * running image's counter and version kept beside each slot:
 *
 *   slot_X.sig   "counter=N\nversion=V\n" of the signed image in slot X,
 *                written when the image is accepted (before it is
 *                installed), removed when an unsigned one is
 */
#ifndef EOTA_APP_SIG_STACK_H
#define EOTA_APP_SIG_STACK_H

#include "config/config.h"
#include "eota/posix.h"
#include "eota/sig_layer.h"
#include "slots.h"

typedef struct eota_sig_stack {
    eota_sig_layer layer;
    eota_posix_hash hash;
    eota_sig_key keys[EOTA_SIG_KEYS_MAX];
    eota_slots *slots;
} eota_sig_stack;

/* inner with the check on top when the config has a signature:, else
 * inner itself. */
eota_backend eota_sig_stack_wrap(eota_sig_stack *s, eota_backend inner, eota_slots *slots, const eota_config *cfg);
/* Free what wrap took (safe on a zeroed struct). */
void eota_sig_stack_free(eota_sig_stack *s);
/* The record of slot ('a'/'b') into out (known 0 when none). */
void eota_sig_stack_slot_record(const eota_slots *slots, char slot, eota_sig_running *out);

#endif
