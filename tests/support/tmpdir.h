/*
 * tmpdir.h: a fresh folder under /tmp for one test, and its removal.
 */
#ifndef EOTA_TEST_TMPDIR_H
#define EOTA_TEST_TMPDIR_H

#include <stddef.h>

/* /tmp/eota-NAME-XXXXXX made into out (the test fails when it cannot). */
void test_tmpdir_make(char *out, size_t len, const char *name);
/* rm -rf dir; 0 when it went. */
int test_tmpdir_remove(const char *dir);

#endif
