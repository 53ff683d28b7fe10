/*
 * trailer.c: the signed-image trailer made on the host (sign.h,
 * docs/signed-images.md): a new one for an unsigned image, or one more
 * signature added to a signed image's (its payload and protected fields
 * unchanged, so its earlier signatures stay valid: a key rotation's bridge
 * image carries the old key's and the new key's). The device's parser
 * (eota/signature.h) reads what this writes.
 */
#include "sign/sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eota/posix.h"

static uint8_t *put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v) { return put16(put16(p, v & 0xffffu), v >> 16); }

static uint8_t *put_tlv(uint8_t *p, uint16_t type, const void *val, size_t len)
{
    p = put16(put16(p, type), (uint32_t)len);
    memcpy(p, val, len);
    return p + len;
}

/* The protected area of a new trailer into buf; its length. */
static size_t build_protected(uint8_t *buf, const sign_fields *f, uint32_t payload_len)
{
    uint8_t v[4];
    uint8_t *p = buf + 4;
    put32(v, f->counter < 0 ? 0u : (uint32_t)f->counter);
    p = put_tlv(p, EOTA_SIG_TLV_SEC_CNT, v, 4);
    p = put_tlv(p, EOTA_SIG_TLV_VERSION, f->version, strlen(f->version));
    if (f->chip)
        p = put_tlv(p, EOTA_SIG_TLV_CHIP, f->chip, strlen(f->chip));
    put32(v, payload_len);
    p = put_tlv(p, EOTA_SIG_TLV_PAYLOAD_LEN, v, 4);
    size_t n = (size_t)(p - buf);
    put16(put16(buf, EOTA_SIG_PROT_INFO_MAGIC), (uint32_t)n);
    return n;
}

static int sha256_two(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[EOTA_SHA256_LEN])
{
    eota_posix_hash h;
    if (eota_posix_hash_init(&h) != EOTA_OK)
        return -1;
    eota_hash s = eota_posix_hash_seam(&h);
    int rc = s.ops->begin(s.ctx, EOTA_HASH_SHA256);
    s.ops->update(s.ctx, a, alen);
    s.ops->update(s.ctx, b, blen);
    rc = rc == EOTA_OK && s.ops->finish(s.ctx, out) == EOTA_OK ? 0 : -1;
    eota_posix_hash_free(&h);
    return rc;
}

int sign_digest(const uint8_t *img, const eota_sig_info *info, uint8_t digest[EOTA_SHA256_LEN])
{
    return sha256_two(img, info->payload_len, info->protected_area, info->protected_len, digest);
}

int sign_ed25519(EVP_PKEY *k, const uint8_t *msg, size_t len, uint8_t sig[EOTA_ED25519_SIG_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t n = EOTA_ED25519_SIG_LEN;
    int ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 && EVP_DigestSign(md, sig, &n, msg, len) == 1 &&
             n == EOTA_ED25519_SIG_LEN;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

/* What the new trailer is made of: the payload, a protected area, the
 * signatures (the image's own, then the new ones). */
typedef struct sign_parts {
    size_t payload_len;
    const uint8_t *prot;
    size_t prot_len;
    uint8_t nsigs;
    uint8_t keyhash[EOTA_SIG_MAX_SIGS][EOTA_SHA256_LEN];
    uint8_t sig[EOTA_SIG_MAX_SIGS][EOTA_ED25519_SIG_LEN];
} sign_parts;

static int differs(const char *want, const char *have, size_t have_len)
{
    return want && (strlen(want) != have_len || memcmp(want, have, have_len) != 0);
}

/* A signed image's parts; the fields asked for must be the ones it has. */
static int parts_of_signed(const uint8_t *img, size_t len, const sign_fields *f, sign_parts *sp, char *err,
                           size_t errlen)
{
    eota_sig_info info;
    const char *why;
    if (eota_sig_parse(img, len, &info, &why) != EOTA_OK) {
        snprintf(err, errlen, "the image ends with a malformed signature trailer: %s", why);
        return -1;
    }
    if (differs(f->version, info.version, info.version_len) || differs(f->chip, info.chip, info.chip_len) ||
        (f->counter >= 0 && (uint32_t)f->counter != info.counter)) {
        snprintf(err, errlen, "the image is signed already (version %.*s, counter %u): a signature added keeps "
                 "its fields; leave out --version/--counter/--chip or give the same", info.version_len,
                 info.version, info.counter);
        return -1;
    }
    sp->payload_len = info.payload_len;
    sp->prot = info.protected_area;
    sp->prot_len = info.protected_len;
    sp->nsigs = info.nsigs;
    for (uint8_t i = 0; i < info.nsigs; i++) {
        memcpy(sp->keyhash[i], info.keyhash[i], EOTA_SHA256_LEN);
        memcpy(sp->sig[i], info.sig[i], EOTA_ED25519_SIG_LEN);
    }
    return 0;
}

/* Sign the digest with each new key, after the signatures already there. */
static int add_signatures(sign_parts *sp, const uint8_t digest[EOTA_SHA256_LEN], EVP_PKEY *const *keys, size_t nkeys,
                          char *err, size_t errlen)
{
    char id[SIGN_KEY_ID_LEN + 1];
    for (size_t k = 0; k < nkeys; k++) {
        uint8_t pub[EOTA_ED25519_PUBKEY_LEN], kh[EOTA_SHA256_LEN];
        size_t n = sizeof pub;
        if (EVP_PKEY_get_raw_public_key(keys[k], pub, &n) != 1 || sign_key_hash(pub, kh) != 0)
            return snprintf(err, errlen, "OpenSSL could not read a key"), -1;
        for (uint8_t i = 0; i < sp->nsigs; i++)
            if (!memcmp(sp->keyhash[i], kh, EOTA_SHA256_LEN))
                return sign_key_id(kh, id), snprintf(err, errlen, "the image is signed by key %s already", id), -1;
        if (sp->nsigs >= EOTA_SIG_MAX_SIGS)
            return snprintf(err, errlen, "an image carries at most %u signatures", EOTA_SIG_MAX_SIGS), -1;
        memcpy(sp->keyhash[sp->nsigs], kh, EOTA_SHA256_LEN);
        if (sign_ed25519(keys[k], digest, EOTA_SHA256_LEN, sp->sig[sp->nsigs++]) != 0)
            return snprintf(err, errlen, "OpenSSL could not sign"), -1;
    }
    return 0;
}

/* payload | protected | unprotected (SHA256, the pairs) | footer. */
static int assemble(const uint8_t *img, const sign_parts *sp, const uint8_t digest[EOTA_SHA256_LEN], uint8_t **out,
                    size_t *outlen)
{
    size_t unprot = 4 + 4 + EOTA_SHA256_LEN + sp->nsigs * (8u + EOTA_SHA256_LEN + EOTA_ED25519_SIG_LEN);
    *outlen = sp->payload_len + sp->prot_len + unprot + EOTA_SIG_FOOTER_LEN;
    uint8_t *p = *out = malloc(*outlen);
    if (!p)
        return -1;
    memcpy(p, img, sp->payload_len);
    memcpy(p + sp->payload_len, sp->prot, sp->prot_len);
    p += sp->payload_len + sp->prot_len;
    p = put16(put16(p, EOTA_SIG_INFO_MAGIC), (uint32_t)unprot);
    p = put_tlv(p, EOTA_SIG_TLV_SHA256, digest, EOTA_SHA256_LEN);
    for (uint8_t i = 0; i < sp->nsigs; i++) {
        p = put_tlv(p, EOTA_SIG_TLV_KEYHASH, sp->keyhash[i], EOTA_SHA256_LEN);
        p = put_tlv(p, EOTA_SIG_TLV_ED25519, sp->sig[i], EOTA_ED25519_SIG_LEN);
    }
    p = put32(put32(p, (uint32_t)(sp->prot_len + unprot)), (uint32_t)sp->payload_len);
    memcpy(p, EOTA_SIG_MAGIC, 8);
    return 0;
}

int sign_image(const uint8_t *img, size_t len, const sign_fields *f, EVP_PKEY *const *keys, size_t nkeys,
               uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
    sign_parts sp;
    uint8_t prot[EOTA_SIG_TRAILER_MAX], digest[EOTA_SHA256_LEN];
    memset(&sp, 0, sizeof sp);
    *out = NULL;
    err[0] = '\0';
    if (eota_sig_present(img, len)) {
        if (parts_of_signed(img, len, f, &sp, err, errlen) != 0)
            return -1;
    } else {
        if (!f->version)
            return snprintf(err, errlen, "--version is needed to sign an unsigned image"), -1;
        sp.payload_len = len;
        sp.prot = prot;
        sp.prot_len = build_protected(prot, f, (uint32_t)len);
    }
    if (sha256_two(img, sp.payload_len, sp.prot, sp.prot_len, digest) != 0 ||
        add_signatures(&sp, digest, keys, nkeys, err, errlen) != 0)
        return err[0] ? -1 : (snprintf(err, errlen, "OpenSSL could not hash"), -1);
    if (assemble(img, &sp, digest, out, outlen) != 0)
        return snprintf(err, errlen, "out of memory"), -1;
    return 0;
}
