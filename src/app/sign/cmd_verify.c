/*
 * cmd_verify.c: `eota verify --pubkey P IMAGE`: what a signed image's
 * trailer holds, and whether it verifies with the keys given, the way a
 * device checks it (the core's parser and check, eota/signature.h, over
 * OpenSSL). Exit 0 only when it does.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eota/posix.h"
#include "sign/sign.h"

#define VERIFY_MAX_KEYS 8

static void verify_usage(FILE *f)
{
    fprintf(f, "usage: eota verify --pubkey KEY [--pubkey KEY2 ...] IMAGE\n"
               "\n"
               "Print what a signed image's trailer holds and check it as a device would:\n"
               "exit 0 when one signature by one of the keys verifies, 1 when not, 2 on a\n"
               "usage error.\n"
               "  -p, --pubkey KEY  a trusted public key: NAME.pub, or its base64 line (up to 8)\n");
}

static void print_info(const char *path, size_t len, const eota_sig_info *in, const uint8_t digest[32])
{
    char id[SIGN_KEY_ID_LEN + 1];
    printf("image: %s (%zu bytes)\n", path, len);
    printf("payload: %u bytes\ntrailer: %u bytes\n", in->payload_len, in->trailer_len);
    printf("version: %.*s\ncounter: %u\n", in->version_len, in->version, in->counter);
    printf("chip: %.*s\n", in->chip_len ? in->chip_len : 1, in->chip_len ? in->chip : "-");
    printf("sha256: ");
    for (unsigned i = 0; i < EOTA_SHA256_LEN; i++)
        printf("%02x", digest[i]);
    printf(" (%s the trailer's)\n", memcmp(digest, in->sha256, EOTA_SHA256_LEN) ? "DIFFERS from" : "matches");
    for (uint8_t i = 0; i < in->nsigs; i++) {
        sign_key_id(in->keyhash[i], id);
        printf("signature %u: key %s\n", i + 1u, id);
    }
}

/* The trusted keys, as a device loads them (low-order keys refused). */
static int load_keys(char **args, size_t n, eota_sig_key *keys)
{
    eota_posix_hash h;
    char err[512];
    if (eota_posix_hash_init(&h) != EOTA_OK)
        return -1;
    eota_hash s = eota_posix_hash_seam(&h);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint8_t pub[EOTA_ED25519_PUBKEY_LEN];
        rc = sign_pubkey_load(args[i], pub, err, sizeof err);
        if (rc == 0 && eota_sig_key_init(&keys[i], pub, &s) != EOTA_OK)
            rc = -1, snprintf(err, sizeof err, "'%s' is the all-zero or a low-order key: never trusted", args[i]);
        if (rc != 0)
            fprintf(stderr, "eota verify: %s\n", err);
    }
    eota_posix_hash_free(&h);
    return rc;
}

static int verify_image(const char *path, const eota_sig_key *keys, size_t nkeys)
{
    uint8_t *img = NULL, digest[EOTA_SHA256_LEN];
    size_t len = 0;
    eota_sig_info info;
    const char *why;
    char err[512];
    if (sign_read_file(path, &img, &len, err, sizeof err) != 0) {
        fprintf(stderr, "eota verify: %s\n", err);
        return 1;
    }
    int ok = 0;
    if (eota_sig_parse(img, len, &info, &why) != EOTA_OK)
        printf("image: %s (%zu bytes)\nnot signed: %s\n", path, len, why);
    else if (sign_digest(img, &info, digest) != 0)
        fprintf(stderr, "eota verify: OpenSSL could not hash\n");
    else {
        print_info(path, len, &info, digest);
        eota_verify v = eota_posix_verify();
        ok = info.payload_len + info.trailer_len == len && !memcmp(digest, info.sha256, EOTA_SHA256_LEN) &&
             eota_sig_check(&info, digest, keys, nkeys, &v) == EOTA_OK;
    }
    printf("verified: %s\n", ok ? "yes" : "NO (not by a key given, or altered)");
    free(img);
    return ok ? 0 : 1;
}

int eota_cmd_verify(int argc, char **argv)
{
    static const struct option lopts[] = {{"pubkey", required_argument, NULL, 'p'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    char *args[VERIFY_MAX_KEYS];
    size_t n = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:h", lopts, NULL)) != -1) {
        if (c == 'h')
            return verify_usage(stdout), 0;
        if (c != 'p' || n == VERIFY_MAX_KEYS)
            return verify_usage(stderr), 2;
        args[n++] = optarg;
    }
    if (n == 0 || optind != argc - 1) {
        fprintf(stderr, "eota verify: %s\n", n == 0 ? "--pubkey is required" : "one IMAGE is required");
        return verify_usage(stderr), 2;
    }
    eota_sig_key keys[VERIFY_MAX_KEYS];
    if (load_keys(args, n, keys) != 0)
        return 2;
    return verify_image(argv[optind], keys, n);
}
