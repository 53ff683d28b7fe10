/*
 * eota/signature.h: the signed-image trailer (docs/signed-images.md), read
 * by the core without allocation: find it at the end of an image, take it
 * apart, check a trusted key, compare versions.
 *
 *   image   = payload | protected TLV area | unprotected TLV area | footer
 *   digest  = SHA-256(payload | protected TLV area)
 *   footer  = u32le areas_len | u32le payload_len | "EOTASIG1"
 *
 * The TLV areas are MCUboot's (an info header, magic and total length, then
 * type/length/value entries, little endian), with MCUboot's type numbers
 * and eota's fields in MCUboot's vendor range. The parser only reads the
 * bytes it is given; every pointer it returns points into them.
 */
#ifndef EOTA_SIGNATURE_H
#define EOTA_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include "eota/crypto.h"
#include "eota/opt.h"
#include "eota/status.h"
#include "eota/verify.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MCUboot's numbers (bootutil/image.h). */
#define EOTA_SIG_PROT_INFO_MAGIC 0x6908u /* the protected TLV area */
#define EOTA_SIG_INFO_MAGIC 0x6907u      /* the unprotected TLV area */
#define EOTA_SIG_TLV_KEYHASH 0x0001u     /* SHA-256 of the raw public key */
#define EOTA_SIG_TLV_SHA256 0x0010u      /* the digest */
#define EOTA_SIG_TLV_ED25519 0x0024u     /* a signature of the digest */
#define EOTA_SIG_TLV_SEC_CNT 0x0050u     /* security counter, u32le */
/* eota's fields, in MCUboot's vendor range (0x00A0..0x00FF). */
#define EOTA_SIG_TLV_VERSION 0x00A0u     /* version string, 1..32 printable ASCII */
#define EOTA_SIG_TLV_CHIP 0x00A1u        /* chip family, 0..32 printable ASCII */
#define EOTA_SIG_TLV_PAYLOAD_LEN 0x00A2u /* payload length, u32le */

#define EOTA_SIG_FOOTER_LEN 16u
#define EOTA_SIG_MAGIC "EOTASIG1"  /* the footer's last 8 bytes */
#define EOTA_SIG_MAX_SIGS 3u
#define EOTA_SIG_VERSION_MAX 32u
#define EOTA_SIG_CHIP_MAX 32u
/* Longest trailer (both areas and the footer) a device accepts: what the
 * largest legal trailer needs, rounded up. A device holds this many bytes
 * back while an image streams in. */
#define EOTA_SIG_TRAILER_MAX 512u

/* What a trailer says. Pointers into the parsed bytes. */
typedef struct eota_sig_info {
    uint32_t trailer_len;   /* the areas and the footer */
    uint32_t payload_len;   /* the protected PAYLOAD_LEN */
    uint32_t counter;       /* the protected SEC_CNT */
    const uint8_t *protected_area;  /* hashed after the payload */
    uint32_t protected_len;
    const uint8_t *sha256;  /* the unprotected SHA256 value */
    const char *version;    /* not terminated */
    const char *chip;       /* not terminated; chip_len 0 when absent */
    uint8_t version_len;
    uint8_t chip_len;
    uint8_t nsigs;          /* 1..EOTA_SIG_MAX_SIGS */
    const uint8_t *keyhash[EOTA_SIG_MAX_SIGS];
    const uint8_t *sig[EOTA_SIG_MAX_SIGS];
} eota_sig_info;

/* A trusted key: the raw Ed25519 public key and its SHA-256 (the key hash
 * a trailer names it by). */
typedef struct eota_sig_key {
    uint8_t pub[EOTA_ED25519_PUBKEY_LEN];
    uint8_t hash[EOTA_SHA256_LEN];
} eota_sig_key;

/* 1 when the last EOTA_SIG_FOOTER_LEN bytes of tail (len bytes, the end of
 * an image) are a footer, i.e. the image claims to be signed. */
int eota_sig_present(const uint8_t *tail, size_t len);

/* Parse the trailer at the end of tail (the last len bytes of an image;
 * the whole image is fine). EOTA_OK and *out, or EOTA_EFORMAT (not signed,
 * malformed, truncated, or a trailer longer than len) with *why a sentence. */
int eota_sig_parse(const uint8_t *tail, size_t len, eota_sig_info *out, const char **why);

/* A key a device may trust: EOTA_OK, with k->hash computed through the
 * hash seam; EOTA_EINVAL for the all-zero key and the low-order points
 * (which any signature verifies against in a lax verifier); EOTA_ECRYPTO. */
int eota_sig_key_init(eota_sig_key *k, const uint8_t pub[EOTA_ED25519_PUBKEY_LEN], const eota_hash *hash);

/* Check the signatures of info against the computed digest: EOTA_OK when one
 * signature by one of the nkeys trusted keys verifies, EOTA_ESIGNATURE when
 * none does (no trusted key named, or bad signatures), EOTA_ECRYPTO. */
int eota_sig_check(const eota_sig_info *info, const uint8_t digest[EOTA_SHA256_LEN], const eota_sig_key *keys,
                   size_t nkeys, const eota_verify *verify);

/* Compare two version strings: runs of digits as numbers, anything else byte
 * by byte ("1.10.0" > "1.9.2", "2024.6.1" > "2024.6.0"). <0, 0, >0. */
int eota_sig_version_cmp(const char *a, size_t alen, const char *b, size_t blen);

#ifdef __cplusplus
}
#endif

#endif
