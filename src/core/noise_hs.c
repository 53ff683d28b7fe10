/*
 * noise_hs.c: the handshake of Noise_NNpsk0_25519_ChaChaPoly_SHA256 (see
 * noise_hs.h): MixHash, MixKey, MixKeyAndHash, EncryptAndHash,
 * DecryptAndHash and Split of the Noise spec, and the two messages
 *   -> psk, e        (initiator; the psk token is mixed at init)
 *   <- e, ee         (responder)
 * every primitive through the crypto seam (eota/noise_crypto.h).
 */
#include "noise_hs.h"

#include <string.h>

#include "eota/opt.h"

#if EOTA_WITH_NOISE

static const char protocol_name[] = "Noise_NNpsk0_25519_ChaChaPoly_SHA256";

#define OPS(nz) ((nz)->crypto.ops)
#define CTX(nz) ((nz)->crypto.ctx)

static int mix_hash(eota_noise *nz, const uint8_t *data, size_t len)
{
    return OPS(nz)->sha256(CTX(nz), nz->h, sizeof nz->h, data, len, nz->h);
}

/* HKDF(ck, ikm) of the Noise spec with two or three outputs (out3 NULL
 * for two); each output is 32 bytes. */
static int hkdf(eota_noise *nz, const uint8_t *ikm, size_t ikm_len, uint8_t *out1, uint8_t *out2,
                uint8_t *out3)
{
    uint8_t temp[EOTA_SHA256_LEN], o1[EOTA_SHA256_LEN], o2[EOTA_SHA256_LEN];
    const uint8_t one = 1, two = 2, three = 3;
    int st = OPS(nz)->hmac_sha256(CTX(nz), nz->ck, ikm, ikm_len, NULL, 0, temp);
    if (st == EOTA_OK)
        st = OPS(nz)->hmac_sha256(CTX(nz), temp, &one, 1, NULL, 0, o1);
    if (st == EOTA_OK)
        st = OPS(nz)->hmac_sha256(CTX(nz), temp, o1, sizeof o1, &two, 1, o2);
    if (st == EOTA_OK && out3)
        st = OPS(nz)->hmac_sha256(CTX(nz), temp, o2, sizeof o2, &three, 1, out3);
    if (st == EOTA_OK) {
        memcpy(out1, o1, sizeof o1);
        memcpy(out2, o2, sizeof o2);
    }
    memset(temp, 0, sizeof temp);
    memset(o1, 0, sizeof o1);
    memset(o2, 0, sizeof o2);
    return st;
}

/* MixKey: ck, k = HKDF(ck, ikm); n = 0. */
static int mix_key(eota_noise *nz, const uint8_t *ikm, size_t len)
{
    int st = hkdf(nz, ikm, len, nz->ck, nz->k, NULL);
    nz->n = 0;
    nz->has_key = st == EOTA_OK;
    return st;
}

int eota_noise_hs_init(eota_noise *nz, const uint8_t *prologue)
{
    uint8_t temp_h[EOTA_SHA256_LEN];
    /* The name is longer than 32 bytes: h = SHA-256(name). */
    int st = OPS(nz)->sha256(CTX(nz), (const uint8_t *)protocol_name, sizeof protocol_name - 1, NULL, 0, nz->h);
    memcpy(nz->ck, nz->h, sizeof nz->ck);
    nz->has_key = 0;
    if (st == EOTA_OK)
        st = mix_hash(nz, prologue, EOTA_NOISE_PROLOGUE_LEN);
    /* MixKeyAndHash(psk): ck, temp_h, k = HKDF(ck, psk, 3). */
    if (st == EOTA_OK)
        st = hkdf(nz, nz->psk, sizeof nz->psk, nz->ck, temp_h, nz->k);
    if (st == EOTA_OK)
        st = mix_hash(nz, temp_h, sizeof temp_h);
    nz->n = 0;
    nz->has_key = st == EOTA_OK;
    memset(temp_h, 0, sizeof temp_h);
    return st;
}

/* The e token (psk mode also mixes it into the key), then ee when `ee`. */
static int token_e(eota_noise *nz, const uint8_t *e_pub, int ee)
{
    int st = mix_hash(nz, e_pub, EOTA_X25519_LEN);
    if (st == EOTA_OK)
        st = mix_key(nz, e_pub, EOTA_X25519_LEN);
    if (st == EOTA_OK && ee) {
        uint8_t dh[EOTA_X25519_LEN];
        st = OPS(nz)->x25519_shared(CTX(nz), dh, nz->e_priv, nz->re);
        if (st == EOTA_OK)
            st = mix_key(nz, dh, sizeof dh);
        memset(dh, 0, sizeof dh);
    }
    return st;
}

int eota_noise_hs_write(eota_noise *nz, uint8_t *out)
{
    int ee = nz->role == EOTA_NOISE_RESPONDER;
    int st = nz->random.fill(nz->random.ctx, nz->e_priv, sizeof nz->e_priv);
    if (st == EOTA_OK)
        st = OPS(nz)->x25519_public(CTX(nz), out, nz->e_priv);
    if (st == EOTA_OK)
        st = token_e(nz, out, ee);
    /* EncryptAndHash of the empty payload: the tag alone. */
    if (st == EOTA_OK)
        st = OPS(nz)->aead_seal(CTX(nz), nz->k, nz->n, nz->h, sizeof nz->h, out, 0, out + EOTA_X25519_LEN);
    if (st == EOTA_OK) {
        nz->n++;
        st = mix_hash(nz, out + EOTA_X25519_LEN, EOTA_AEAD_TAG_LEN);
    }
    return st == EOTA_OK ? EOTA_OK : EOTA_ECRYPTO;
}

int eota_noise_hs_read(eota_noise *nz, uint8_t *msg, size_t len, int *mac)
{
    int ee = nz->role == EOTA_NOISE_INITIATOR;
    *mac = 0;
    if (len < EOTA_NOISE_HANDSHAKE_MSG_LEN)
        return EOTA_EFORMAT;
    uint8_t *ct = msg + EOTA_X25519_LEN;
    size_t ct_len = len - EOTA_X25519_LEN;
    memcpy(nz->re, msg, sizeof nz->re);
    int st = token_e(nz, nz->re, ee);
    if (st != EOTA_OK)
        return EOTA_ECRYPTO;
    /* DecryptAndHash: h is mixed with the ciphertext, so keep it first. */
    uint8_t h_before[EOTA_SHA256_LEN];
    memcpy(h_before, nz->h, sizeof h_before);
    st = mix_hash(nz, ct, ct_len);
    if (st == EOTA_OK &&
        OPS(nz)->aead_open(CTX(nz), nz->k, nz->n, h_before, sizeof h_before, ct, ct_len - EOTA_AEAD_TAG_LEN,
                           ct) != EOTA_OK) {
        *mac = 1;
        st = EOTA_ECRYPTO;
    }
    nz->n++;
    return st == EOTA_OK ? EOTA_OK : EOTA_ECRYPTO;
}

int eota_noise_hs_split(eota_noise *nz)
{
    uint8_t k1[EOTA_SHA256_LEN], k2[EOTA_SHA256_LEN];
    int st = hkdf(nz, NULL, 0, k1, k2, NULL);
    int ini = nz->role == EOTA_NOISE_INITIATOR;
    memcpy(nz->tx_cs.k, ini ? k1 : k2, sizeof k1);
    memcpy(nz->rx_cs.k, ini ? k2 : k1, sizeof k1);
    nz->tx_cs.n = nz->rx_cs.n = 0;
    memset(k1, 0, sizeof k1);
    memset(k2, 0, sizeof k2);
    memset(nz->ck, 0, sizeof nz->ck);
    memset(nz->k, 0, sizeof nz->k);
    memset(nz->e_priv, 0, sizeof nz->e_priv);
    nz->has_key = 0;
    return st;
}

#endif
