/*
 * cmd_sign.c: `eota sign`: append a signed trailer to a firmware image, or
 * add a signature to an image signed already (a key rotation's bridge
 * image: signed by the old key and the new one).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign.h"

static void sign_usage(FILE *f)
{
    fprintf(f, "usage: eota sign --key NAME.key [--key OTHER.key] --version V [--counter N]\n"
               "                 [--chip FAMILY] FIRMWARE -o OUT\n"
               "\n"
               "Sign a firmware image (docs/signed-images.md): OUT is FIRMWARE with a trailer\n"
               "(Ed25519 signatures of the SHA-256 of the firmware and of the fields below).\n"
               "FIRMWARE signed already: the new keys' signatures are added, its fields kept.\n"
               "  -k, --key FILE     an Ed25519 private key (eota keygen); up to 3 in all\n"
               "  -V, --version V    the image's version (1..32 printable characters)\n"
               "  -c, --counter N    security counter, 0..4294967295 (default 0): a device\n"
               "                     refuses an image whose counter is lower than its own\n"
               "  -C, --chip FAMILY  the chip family it is built for (optional)\n"
               "  -o, --out FILE     the signed image\n"
               "  -m, --minisig      also write OUT.minisig, a detached minisign signature of\n"
               "                     OUT by the first key (check: minisign -V -P PUB -m OUT)\n");
}

typedef struct sign_args {
    const char *keys[EOTA_SIG_MAX_SIGS];
    size_t nkeys;
    sign_fields f;
    const char *in, *out;
    int minisig;
} sign_args;

static int field_ok(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return n >= min && n <= max;
}

static int check_args(const sign_args *a)
{
    const char *bad = NULL;
    if (a->nkeys == 0)
        bad = "at least one --key is required";
    else if (!a->in || !a->out)
        bad = "FIRMWARE and -o OUT are required";
    else if (a->f.version && !field_ok(a->f.version, 1, EOTA_SIG_VERSION_MAX))
        bad = "--version must be 1 to 32 printable ASCII characters";
    else if (a->f.chip && !field_ok(a->f.chip, 0, EOTA_SIG_CHIP_MAX))
        bad = "--chip must be at most 32 printable ASCII characters";
    if (bad)
        fprintf(stderr, "eota sign: %s\n", bad);
    return bad ? -1 : 0;
}

static int parse_counter(const char *s, long long *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || *s == '-' || v > 0xffffffffull) {
        fprintf(stderr, "eota sign: --counter '%s': expected an integer from 0 to 4294967295\n", s);
        return -1;
    }
    *out = (long long)v;
    return 0;
}

static int parse_sign_args(int argc, char **argv, sign_args *a)
{
    static const struct option lopts[] = {
        {"key", required_argument, NULL, 'k'},  {"version", required_argument, NULL, 'V'},
        {"counter", required_argument, NULL, 'c'}, {"chip", required_argument, NULL, 'C'},
        {"out", required_argument, NULL, 'o'},  {"help", no_argument, NULL, 'h'},
        {"minisig", no_argument, NULL, 'm'},    {NULL, 0, NULL, 0}};
    int c;
    memset(a, 0, sizeof *a);
    a->f.counter = -1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:V:c:C:o:mh", lopts, NULL)) != -1) {
        switch (c) {
        case 'h': sign_usage(stdout); return 0;
        case 'k':
            if (a->nkeys == EOTA_SIG_MAX_SIGS)
                return fprintf(stderr, "eota sign: at most %u --key\n", EOTA_SIG_MAX_SIGS), 2;
            a->keys[a->nkeys++] = optarg;
            break;
        case 'V': a->f.version = optarg; break;
        case 'c': if (parse_counter(optarg, &a->f.counter) != 0) return 2; break;
        case 'C': a->f.chip = optarg; break;
        case 'o': a->out = optarg; break;
        case 'm': a->minisig = 1; break;
        default: sign_usage(stderr); return 2;
        }
    }
    if (optind < argc)
        a->in = argv[optind++];
    if (optind < argc)
        return fprintf(stderr, "eota sign: one FIRMWARE only ('%s')\n", argv[optind]), 2;
    return check_args(a) == 0 ? -1 : 2;
}

static int write_minisig(const sign_args *a, EVP_PKEY *k, const uint8_t *out, size_t outlen, char *err,
                         size_t errlen)
{
    char pub[64];
    if (sign_minisig(k, out, outlen, a->out, pub, err, errlen) != 0)
        return -1;
    printf("wrote %s.minisig: check with minisign -V -P %s -m %s\n", a->out, pub, a->out);
    return 0;
}

static int sign_file(const sign_args *a, EVP_PKEY *const *keys, char *err, size_t errlen)
{
    uint8_t *img = NULL, *out = NULL;
    size_t len = 0, outlen = 0;
    if (sign_read_file(a->in, &img, &len, err, errlen) != 0)
        return -1;
    int rc = len > 0xffffffffu ? (snprintf(err, errlen, "'%s' is larger than 4 GiB", a->in), -1)
                                 : sign_image(img, len, &a->f, keys, a->nkeys, &out, &outlen, err, errlen);
    if (rc == 0)
        rc = sign_write_file(a->out, out, outlen, 0644, err, errlen);
    if (rc == 0)
        printf("wrote %s: %zu bytes, %zu signature(s) added\n", a->out, outlen, a->nkeys);
    if (rc == 0 && a->minisig)
        rc = write_minisig(a, keys[0], out, outlen, err, errlen);
    free(img);
    free(out);
    return rc;
}

int eota_cmd_sign(int argc, char **argv)
{
    sign_args a;
    int rc = parse_sign_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    EVP_PKEY *keys[EOTA_SIG_MAX_SIGS] = {NULL};
    uint8_t pub[EOTA_ED25519_PUBKEY_LEN];
    char err[512] = "";
    rc = 0;
    for (size_t i = 0; i < a.nkeys && rc == 0; i++)
        rc = sign_load_private(a.keys[i], &keys[i], pub, err, sizeof err);
    if (rc == 0)
        rc = sign_file(&a, keys, err, sizeof err);
    for (size_t i = 0; i < a.nkeys; i++)
        EVP_PKEY_free(keys[i]);
    if (rc != 0)
        fprintf(stderr, "eota sign: %s\n", err);
    return rc != 0 ? 1 : 0;
}
