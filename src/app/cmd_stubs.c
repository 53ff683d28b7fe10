/*
 * cmd_stubs.c: subcommands whose issues are still open. Each says so
 * plainly and fails; the file shrinks as they are built.
 */
#include <stdio.h>

#include "cli.h"

int eota_cmd_upload(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "eota upload: not built yet (issue 4)\n");
    return 2;
}
