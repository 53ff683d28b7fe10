/*
 * minisig.c: a detached signature beside a signed image, in minisign's
 * format (https://jedisct1.github.io/minisign/), so that the file as sent
 * can be checked with `minisign -V` too. Prehashed: the Ed25519 signature
 * of the BLAKE2b-512 of the file ("ED"), then the global signature of that
 * signature and the trusted comment.
 */
#include "sign/sign.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* base64 of n bytes into out (4 * ((n + 2) / 3) + 1 bytes). */
static void b64(const uint8_t *p, size_t n, char *out) { EVP_EncodeBlock((unsigned char *)out, p, (int)n); }

int sign_minisig(EVP_PKEY *k, const uint8_t *data, size_t len, const char *path, char *pub, char *err,
                 size_t errlen)
{
    char sigpath[4096];
    uint8_t raw[EOTA_ED25519_PUBKEY_LEN], kh[EOTA_SHA256_LEN], hash[64];
    uint8_t blob[2 + 8 + EOTA_ED25519_SIG_LEN], pk[2 + 8 + EOTA_ED25519_PUBKEY_LEN];
    uint8_t global_msg[EOTA_ED25519_SIG_LEN + 256], global[EOTA_ED25519_SIG_LEN];
    char trusted[200], sig64[128], global64[128], text[700];
    size_t n = sizeof raw;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    snprintf(trusted, sizeof trusted, "timestamp:%lld\tfile:%.120s\thashed", (long long)time(NULL), base);
    size_t tlen = strlen(trusted);
    if (EVP_PKEY_get_raw_public_key(k, raw, &n) != 1 || sign_key_hash(raw, kh) != 0 ||
        EVP_Digest(data, len, hash, NULL, EVP_blake2b512(), NULL) != 1)
        return snprintf(err, errlen, "OpenSSL could not hash for the minisign signature"), -1;
    memcpy(blob, "ED", 2);
    memcpy(blob + 2, kh, 8);
    memcpy(global_msg + EOTA_ED25519_SIG_LEN, trusted, tlen);
    if (sign_ed25519(k, hash, sizeof hash, blob + 10) != 0)
        return snprintf(err, errlen, "OpenSSL could not sign"), -1;
    memcpy(global_msg, blob + 10, EOTA_ED25519_SIG_LEN);
    if (sign_ed25519(k, global_msg, EOTA_ED25519_SIG_LEN + tlen, global) != 0)
        return snprintf(err, errlen, "OpenSSL could not sign"), -1;
    b64(blob, sizeof blob, sig64);
    b64(global, sizeof global, global64);
    snprintf(text, sizeof text, "untrusted comment: signature from eota key %02x%02x%02x%02x%02x%02x%02x%02x\n%s\n"
             "trusted comment: %s\n%s\n", kh[0], kh[1], kh[2], kh[3], kh[4], kh[5], kh[6], kh[7], sig64, trusted,
             global64);
    memcpy(pk, "Ed", 2);
    memcpy(pk + 2, kh, 8);
    memcpy(pk + 10, raw, EOTA_ED25519_PUBKEY_LEN);
    b64(pk, sizeof pk, pub);
    snprintf(sigpath, sizeof sigpath, "%s.minisig", path);
    return sign_write_file(sigpath, text, strlen(text), 0644, err, errlen);
}
