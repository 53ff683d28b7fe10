/*
 * cmd_keygen.c: `eota keygen --out NAME`: a new Ed25519 signing key,
 * NAME.key (the private key, PKCS#8 PEM, mode 0600, never overwritten) and
 * NAME.pub (the public key, one base64 line, for the device's config and
 * `eota verify`).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sign/sign.h"

static void keygen_usage(FILE *f)
{
    fprintf(f, "usage: eota keygen --out NAME\n"
               "\n"
               "Make an Ed25519 key for signing firmware images (docs/signed-images.md):\n"
               "  NAME.key  the private key (PEM, mode 0600; an existing file is not replaced)\n"
               "  NAME.pub  the public key, one base64 line: put it (or its path) in the\n"
               "            device's ota: signature: keys:, or give it to eota verify --pubkey\n");
}

int eota_cmd_keygen(int argc, char **argv)
{
    static const struct option lopts[] = {{"out", required_argument, NULL, 'o'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *name = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", lopts, NULL)) != -1) {
        if (c == 'h')
            return keygen_usage(stdout), 0;
        if (c != 'o')
            return keygen_usage(stderr), 2;
        name = optarg;
    }
    if (!name || !*name || optind < argc) {
        fprintf(stderr, "eota keygen: %s\n", !name || !*name ? "--out NAME is required" : "unexpected argument");
        keygen_usage(stderr);
        return 2;
    }
    char err[512];
    if (sign_keygen(name, err, sizeof err) != 0) {
        fprintf(stderr, "eota keygen: %s\n", err);
        return 1;
    }
    printf("wrote %s.key (private, keep it secret) and %s.pub\n", name, name);
    return 0;
}
