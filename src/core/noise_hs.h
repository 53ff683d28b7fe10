/*
 * noise_hs.h (core internal): the symmetric and handshake state of
 * Noise_NNpsk0_25519_ChaChaPoly_SHA256 (the Noise spec, sections 5 and 9)
 * over the fields of eota_noise, on the caller's buffers. noise.c frames
 * the messages and drives the session.
 */
#ifndef EOTA_CORE_NOISE_HS_H
#define EOTA_CORE_NOISE_HS_H

#include <stddef.h>
#include <stdint.h>

#include "eota/noise.h"

/* h = SHA-256(protocol name), ck = h, MixHash(prologue), and the psk
 * token of message 1 (MixKeyAndHash(psk)). */
int eota_noise_hs_init(eota_noise *nz, const uint8_t *prologue);

/* Write this side's handshake message (e, [ee], empty payload) to out
 * (EOTA_NOISE_HANDSHAKE_MSG_LEN bytes): message 1 for the initiator,
 * message 2 for the responder. */
int eota_noise_hs_write(eota_noise *nz, uint8_t *out);

/* Read the peer's handshake message (msg, len >= 48, decrypted in place;
 * its payload is ignored). EOTA_OK, EOTA_EFORMAT (too short), EOTA_ECRYPTO
 * when the tag does not verify (a wrong key) or the seam failed: *mac is
 * set to 1 for the former. */
int eota_noise_hs_read(eota_noise *nz, uint8_t *msg, size_t len, int *mac);

/* Split into the two transport ciphers (initiator sends with the first)
 * and wipe the handshake state. */
int eota_noise_hs_split(eota_noise *nz);

#endif
