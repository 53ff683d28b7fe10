/*
 * verify.c: the signature verification seam (eota/verify.h) over OpenSSL 3:
 * Ed25519 (pure, RFC 8032) over the message (the core's: the 32-byte
 * digest), one shot (EVP_DigestVerify with no message digest).
 */
#include <openssl/evp.h>

#include "eota/posix.h"
#include "eota/status.h"

static int ed25519_verify(void *ctx, const uint8_t pub[EOTA_ED25519_PUBKEY_LEN], const uint8_t *msg,
                          size_t msg_len, const uint8_t sig[EOTA_ED25519_SIG_LEN])
{
    (void)ctx;
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, EOTA_ED25519_PUBKEY_LEN);
    if (!key)
        return EOTA_EVERIFY; /* not a key OpenSSL takes */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int st = EOTA_ECRYPTO;
    if (md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1)
        st = EVP_DigestVerify(md, sig, EOTA_ED25519_SIG_LEN, msg, msg_len) == 1 ? EOTA_OK : EOTA_EVERIFY;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    return st;
}

static const eota_verify_ops verify_ops = {ed25519_verify};

eota_verify eota_posix_verify(void)
{
    eota_verify v = {&verify_ops, NULL};
    return v;
}
