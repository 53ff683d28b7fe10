/*
 * sign.h: signed images on the host (docs/signed-images.md): the key files,
 * the trailer's construction, and the three commands
 *
 *   eota keygen --out NAME            NAME.key (PKCS#8 PEM, 0600), NAME.pub
 *   eota sign --key K [--key K2] --version V [--counter N] [--chip C] IN -o OUT
 *   eota verify --pubkey P [--pubkey P2] IMAGE
 *
 * A public key is the raw 32-byte Ed25519 key as one base64 line (44
 * characters), in a .pub file or given inline. The device's config reads
 * keys through the same sign_pubkey_load.
 */
#ifndef EOTA_APP_SIGN_H
#define EOTA_APP_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "eota/signature.h"

#define SIGN_PUB_B64_LEN 44   /* base64 of 32 bytes, with one '=' */
#define SIGN_KEY_ID_LEN 16    /* hex digits of a key id (8 bytes of its hash) */

int eota_cmd_keygen(int argc, char **argv);
int eota_cmd_sign(int argc, char **argv);
int eota_cmd_verify(int argc, char **argv);

/* --- keys (keyfile.c) --- */
/* Write NAME.key (mode 0600) and NAME.pub for a new Ed25519 key. 0 or -1. */
int sign_keygen(const char *name, char *err, size_t errlen);
/* An Ed25519 private key from a PEM file, and its raw public key. */
int sign_load_private(const char *path, EVP_PKEY **out, uint8_t pub[EOTA_ED25519_PUBKEY_LEN], char *err,
                      size_t errlen);
/* A public key: arg is base64 (44 characters), or a file holding it. */
int sign_pubkey_load(const char *arg, uint8_t pub[EOTA_ED25519_PUBKEY_LEN], char *err, size_t errlen);
/* The base64 line of a key (SIGN_PUB_B64_LEN + 1 bytes). */
void sign_pubkey_encode(const uint8_t pub[EOTA_ED25519_PUBKEY_LEN], char *out);
/* The id a trailer's key hash is shown by: its first 8 bytes in hex. */
void sign_key_id(const uint8_t keyhash[EOTA_SHA256_LEN], char out[SIGN_KEY_ID_LEN + 1]);
/* The key hash (SHA-256) of a raw public key. 0 or -1. */
int sign_key_hash(const uint8_t pub[EOTA_ED25519_PUBKEY_LEN], uint8_t hash[EOTA_SHA256_LEN]);

/* --- files (keyfile.c) --- */
/* A whole file into a malloc'd buffer. 0, or -1 with err. */
int sign_read_file(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen);
/* Write buf to path (created with mode, replaced). 0, or -1 with err. */
int sign_write_file(const char *path, const void *buf, size_t len, unsigned mode, char *err, size_t errlen);

/* --- the trailer (trailer.c) --- */
typedef struct sign_fields {
    const char *version;   /* NULL: keep the signed image's */
    const char *chip;      /* NULL: none (or keep) */
    long long counter;     /* -1: 0 for a new trailer (or keep) */
} sign_fields;

/* Sign img (unsigned: a new trailer; signed: its trailer with the new
 * signatures added). *out is malloc'd. 0, or -1 with err. */
int sign_image(const uint8_t *img, size_t len, const sign_fields *f, EVP_PKEY *const *keys, size_t nkeys,
               uint8_t **out, size_t *outlen, char *err, size_t errlen);
/* The Ed25519 signature (pure, one shot) of len bytes of msg. 0 or -1. */
int sign_ed25519(EVP_PKEY *k, const uint8_t *msg, size_t len, uint8_t sig[EOTA_ED25519_SIG_LEN]);
/* SHA-256 of the payload and protected area of a parsed image. 0 or -1. */
int sign_digest(const uint8_t *img, const eota_sig_info *info, uint8_t digest[EOTA_SHA256_LEN]);

/* --- a detached minisign signature (minisig.c) --- */
/* Write PATH.minisig for data (PATH's bytes), signed with k: minisign's prehashed
 * format (BLAKE2b-512, "ED"), key id = the key hash's first 8 bytes; the
 * matching minisign public key (base64, for `minisign -V -P`) into pub
 * (at least 57 bytes). 0, or -1 with err. */
int sign_minisig(EVP_PKEY *k, const uint8_t *data, size_t len, const char *path, char *pub, char *err,
                 size_t errlen);

#endif
