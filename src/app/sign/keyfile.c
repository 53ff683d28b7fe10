/*
 * keyfile.c: Ed25519 keys and files for the signing tools and the device
 * (sign.h): the private key as PKCS#8 PEM (what `openssl genpkey -algorithm
 * ed25519` writes, so OpenSSL's command line reads it too), the public key
 * as one base64 line of its 32 raw bytes.
 */
#include "sign/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "eota/posix.h"

int sign_read_file(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "cannot read '%s': %s", path, f ? "not a regular file" : strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    *len = (size_t)st.st_size;
    *buf = malloc(*len ? *len : 1);
    int ok = *buf && fread(*buf, 1, *len, f) == *len;
    fclose(f);
    if (!ok) {
        free(*buf);
        *buf = NULL;
        snprintf(err, errlen, "cannot read '%s' whole", path);
        return -1;
    }
    return 0;
}

int sign_write_file(const char *path, const void *buf, size_t len, unsigned mode, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0 || fchmod(fd, (mode_t)mode) != 0 || write(fd, buf, len) != (ssize_t)len) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return close(fd) == 0 ? 0 : -1;
}

void sign_pubkey_encode(const uint8_t pub[EOTA_ED25519_PUBKEY_LEN], char *out)
{
    EVP_EncodeBlock((unsigned char *)out, pub, EOTA_ED25519_PUBKEY_LEN);
}

void sign_key_id(const uint8_t keyhash[EOTA_SHA256_LEN], char out[SIGN_KEY_ID_LEN + 1])
{
    for (int i = 0; i < SIGN_KEY_ID_LEN / 2; i++)
        snprintf(out + 2 * i, 3, "%02x", keyhash[i]);
}

int sign_key_hash(const uint8_t pub[EOTA_ED25519_PUBKEY_LEN], uint8_t hash[EOTA_SHA256_LEN])
{
    return eota_posix_digest(EOTA_HASH_SHA256, pub, EOTA_ED25519_PUBKEY_LEN, hash) == EOTA_OK ? 0 : -1;
}

static int raw_public(EVP_PKEY *k, uint8_t pub[EOTA_ED25519_PUBKEY_LEN])
{
    size_t n = EOTA_ED25519_PUBKEY_LEN;
    return EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 && n == EOTA_ED25519_PUBKEY_LEN ? 0 : -1;
}

static int write_private(const char *path, EVP_PKEY *k, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
    if (fclose(f) != 0 || !ok) {
        snprintf(err, errlen, "cannot write the private key to '%s'", path);
        return -1;
    }
    return 0;
}

int sign_keygen(const char *name, char *err, size_t errlen)
{
    char keypath[4096], pubpath[4096], line[SIGN_PUB_B64_LEN + 2];
    uint8_t pub[EOTA_ED25519_PUBKEY_LEN];
    snprintf(keypath, sizeof keypath, "%s.key", name);
    snprintf(pubpath, sizeof pubpath, "%s.pub", name);
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!k || raw_public(k, pub) != 0) {
        snprintf(err, errlen, "OpenSSL could not make an Ed25519 key");
        EVP_PKEY_free(k);
        return -1;
    }
    int rc = write_private(keypath, k, err, errlen);
    EVP_PKEY_free(k);
    if (rc != 0)
        return -1;
    sign_pubkey_encode(pub, line);
    strcat(line, "\n");
    return sign_write_file(pubpath, line, strlen(line), 0644, err, errlen);
}

int sign_load_private(const char *path, EVP_PKEY **out, uint8_t pub[EOTA_ED25519_PUBKEY_LEN], char *err,
                      size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read the key '%s': %s", path, strerror(errno));
        return -1;
    }
    *out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!*out || EVP_PKEY_get_id(*out) != EVP_PKEY_ED25519 || raw_public(*out, pub) != 0) {
        snprintf(err, errlen, "'%s' is not an Ed25519 private key in PEM (eota keygen writes one)", path);
        EVP_PKEY_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* 44 base64 characters (surrounding space ignored) into 32 bytes. */
static int pubkey_decode(const char *s, uint8_t pub[EOTA_ED25519_PUBKEY_LEN])
{
    char b[SIGN_PUB_B64_LEN + 1];
    uint8_t raw[SIGN_PUB_B64_LEN];
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strcspn(s, " \t\r\n");
    if (n != SIGN_PUB_B64_LEN || s[n - 1] != '=' || s[n - 2] == '=' || s[n + strspn(s + n, " \t\r\n")] != '\0')
        return -1;
    memcpy(b, s, n);
    b[n] = '\0';
    if (EVP_DecodeBlock(raw, (const unsigned char *)b, (int)n) != 33)
        return -1;
    memcpy(pub, raw, EOTA_ED25519_PUBKEY_LEN);
    return 0;
}

int sign_pubkey_load(const char *arg, uint8_t pub[EOTA_ED25519_PUBKEY_LEN], char *err, size_t errlen)
{
    if (pubkey_decode(arg, pub) == 0)
        return 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    char ferr[256];
    if (sign_read_file(arg, &buf, &len, ferr, sizeof ferr) != 0) {
        snprintf(err, errlen, "'%s' is neither a public key (44 base64 characters) nor a readable file", arg);
        return -1;
    }
    char *text = malloc(len + 1);
    int rc = -1;
    if (text) {
        memcpy(text, buf, len);
        text[len] = '\0';
        rc = pubkey_decode(text, pub);
    }
    free(text);
    free(buf);
    if (rc != 0)
        snprintf(err, errlen, "'%s' does not hold a public key (one line of 44 base64 characters)", arg);
    return rc;
}
