/*
 * hash.c: the hash seam (eota/crypto.h) over OpenSSL 3's EVP interface, and
 * a one-shot digest for the tools. The EVP context is allocated once per
 * eota_posix_hash (eota_posix_hash_init) and reused by every begin, so a
 * session costs no allocation.
 */
#include "eota/posix.h"

#include <openssl/evp.h>

#include "eota/status.h"

static const EVP_MD *md_for(eota_hash_alg alg)
{
    switch (alg) {
    case EOTA_HASH_MD5:
        return EVP_md5();
    case EOTA_HASH_SHA256:
        return EVP_sha256();
    }
    return NULL;
}

/* The update op cannot report failure, so a failed step marks the hash as
 * "none in progress" (alg = -1) and the following finish fails. */
static int hash_begin(void *ctx, eota_hash_alg alg)
{
    eota_posix_hash *h = ctx;
    const EVP_MD *md;

    if (h == NULL || h->md_ctx == NULL)
        return EOTA_EINVAL;
    h->alg = -1;
    md = md_for(alg);
    if (md == NULL)
        return EOTA_EINVAL;
    if (EVP_DigestInit_ex((EVP_MD_CTX *)h->md_ctx, md, NULL) != 1)
        return EOTA_ECRYPTO;
    h->alg = (int)alg;
    return EOTA_OK;
}

static void hash_update(void *ctx, const uint8_t *data, size_t len)
{
    eota_posix_hash *h = ctx;

    if (h == NULL || h->md_ctx == NULL || h->alg < 0 || len == 0)
        return;
    if (data == NULL || EVP_DigestUpdate((EVP_MD_CTX *)h->md_ctx, data, len) != 1)
        h->alg = -1;
}

static int hash_finish(void *ctx, uint8_t *digest)
{
    eota_posix_hash *h = ctx;
    unsigned int out_len = 0;
    unsigned int want;
    int ok;

    if (h == NULL || h->md_ctx == NULL || digest == NULL)
        return EOTA_EINVAL;
    if (h->alg < 0)
        return EOTA_ECRYPTO;
    want = eota_hash_digest_len((eota_hash_alg)h->alg);
    ok = EVP_DigestFinal_ex((EVP_MD_CTX *)h->md_ctx, digest, &out_len);
    h->alg = -1;
    if (ok != 1 || out_len != want)
        return EOTA_ECRYPTO;
    return EOTA_OK;
}

static const eota_hash_ops posix_hash_ops = {
    .begin = hash_begin,
    .update = hash_update,
    .finish = hash_finish,
};

int eota_posix_hash_init(eota_posix_hash *h)
{
    if (h == NULL)
        return EOTA_EINVAL;
    h->alg = -1;
    h->md_ctx = EVP_MD_CTX_new();
    return h->md_ctx != NULL ? EOTA_OK : EOTA_ECRYPTO;
}

void eota_posix_hash_free(eota_posix_hash *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free((EVP_MD_CTX *)h->md_ctx);
    h->md_ctx = NULL;
    h->alg = -1;
}

eota_hash eota_posix_hash_seam(eota_posix_hash *h)
{
    eota_hash seam = {&posix_hash_ops, h};
    return seam;
}

int eota_posix_digest(eota_hash_alg alg, const void *data, size_t len, uint8_t *digest)
{
    const EVP_MD *md = md_for(alg);
    unsigned int out_len = 0;
    static const uint8_t empty[1];

    if (md == NULL || digest == NULL || (data == NULL && len > 0))
        return EOTA_EINVAL;
    if (EVP_Digest(data != NULL ? data : empty, len, digest, &out_len, md, NULL) != 1)
        return EOTA_ECRYPTO;
    return out_len == eota_hash_digest_len(alg) ? EOTA_OK : EOTA_ECRYPTO;
}
