/*
 * main.c: the eota command, one binary with subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sign/sign.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: eota COMMAND [OPTIONS]\n"
            "\n"
            "ESPHome-compatible over-the-air updates.\n"
            "\n"
            "commands:\n"
            "  device    run a device: serve the OTA protocol, A/B slots, the application\n"
            "  upload    upload firmware to one device or a fleet\n"
            "  keygen    make an Ed25519 key for signing images\n"
            "  sign      sign a firmware image (or add a signature to a signed one)\n"
            "  verify    show a signed image's trailer and check its signature\n"
            "  discover  list the ESPHome and eota devices on the network (mDNS)\n"
            "  publish   put firmware and a manifest.json where devices poll for updates\n"
            "  version   print the version\n"
            "\n"
            "'eota COMMAND --help' tells more about each.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("eota %s\n", EOTA_CLI_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "device"))
        return eota_cmd_device(argc - 1, argv + 1);
    if (!strcmp(cmd, "upload"))
        return eota_cmd_upload(argc - 1, argv + 1);
    if (!strcmp(cmd, "keygen"))
        return eota_cmd_keygen(argc - 1, argv + 1);
    if (!strcmp(cmd, "sign"))
        return eota_cmd_sign(argc - 1, argv + 1);
    if (!strcmp(cmd, "verify"))
        return eota_cmd_verify(argc - 1, argv + 1);
    if (!strcmp(cmd, "discover"))
        return eota_cmd_discover(argc - 1, argv + 1);
    if (!strcmp(cmd, "publish"))
        return eota_cmd_publish(argc - 1, argv + 1);
    fprintf(stderr, "eota: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
