/*
 * cmd_stubs.c: subcommands whose issues are still open. Each says so
 * plainly and fails; the file shrinks as they are built. (None left:
 * `eota device` is src/app/device.c, `eota upload` src/app/upload.c.)
 */
#include <stdio.h>

#include "cli.h"
