/*
 * help.h: the text of `eota upload --help` (help.c).
 */
#ifndef EOTA_APP_UPLOAD_HELP_H
#define EOTA_APP_UPLOAD_HELP_H

#include <stdio.h>

void up_help(FILE *f);

#endif
