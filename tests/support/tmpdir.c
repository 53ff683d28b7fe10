/*
 * tmpdir.c: a fresh folder under /tmp for one test (tmpdir.h).
 */
#include "tmpdir.h"

#include <stdio.h>
#include <stdlib.h>

void test_tmpdir_make(char *out, size_t len, const char *name)
{
    snprintf(out, len, "/tmp/eota-%s-XXXXXX", name);
    if (!mkdtemp(out)) {
        perror("mkdtemp");
        abort();
    }
}

int test_tmpdir_remove(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}
