/*
 * test_upload_cache_dir.c: the folder of `eota upload`'s caches
 * (src/app/upload/cache_dir.c): EOTA_CACHE_DIR first (and `off`), then
 * XDG_CACHE_HOME/eota, then ~/.cache/eota, nothing at all without them
 * (never /tmp); missing folders created 0700; a folder of another user's,
 * one its group or every user can write, or a file, refused with words
 * that say which and why; the refusal said on stderr once a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#include "upload/cache_dir.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    test_tmpdir_make(dir, sizeof dir, "cachedir");
    unsetenv("EOTA_CACHE_DIR");
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove(dir);
}

static char *path_in(const char *rel)
{
    static char p[4][256];
    static int i;
    char *out = p[i++ % 4];
    snprintf(out, sizeof p[0], "%s/%s", dir, rel);
    return out;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    return st.st_mode & 07777;
}

/* up_cache_dir_choose's answer, and the folder it chose. */
static enum up_cache_choice choose(char *out, char *why)
{
    return up_cache_dir_choose(out, 512, why, 512);
}

static void test_eota_cache_dir_first_and_created_0700(void **state)
{
    (void)state;
    char out[512], why[512];
    setenv("EOTA_CACHE_DIR", path_in("mine/deep/cache"), 1);
    setenv("XDG_CACHE_HOME", path_in("xdg"), 1);
    setenv("HOME", path_in("home"), 1);
    assert_int_equal(choose(out, why), UP_CACHE_ON);
    assert_string_equal(out, path_in("mine/deep/cache"));
    assert_int_equal(mode_of(out), 0700);
    assert_int_equal(mode_of(path_in("mine/deep")), 0700); /* the missing parents too */
    assert_int_not_equal(access(path_in("xdg"), F_OK), 0);
    assert_int_not_equal(access(path_in("home"), F_OK), 0);
    /* an existing folder of ours, 0755: fine, left as it is */
    assert_int_equal(chmod(out, 0755), 0);
    assert_int_equal(choose(out, why), UP_CACHE_ON);
    assert_int_equal(mode_of(out), 0755);
}

static void test_off_creates_nothing(void **state)
{
    (void)state;
    char out[512], why[512];
    setenv("EOTA_CACHE_DIR", "off", 1);
    setenv("XDG_CACHE_HOME", path_in("xdg"), 1);
    setenv("HOME", path_in("home"), 1);
    assert_int_equal(choose(out, why), UP_CACHE_OFF);
    assert_int_equal(up_cache_dir(out, sizeof out), -1);
    assert_int_not_equal(access(path_in("xdg"), F_OK), 0);
    assert_int_not_equal(access(path_in("home"), F_OK), 0);
}

static void test_xdg_then_home(void **state)
{
    (void)state;
    char out[512], why[512];
    setenv("EOTA_CACHE_DIR", "", 1); /* empty: as if unset */
    setenv("XDG_CACHE_HOME", path_in("xdg"), 1);
    setenv("HOME", path_in("home"), 1);
    assert_int_equal(choose(out, why), UP_CACHE_ON);
    assert_string_equal(out, path_in("xdg/eota"));
    assert_int_equal(mode_of(path_in("xdg")), 0700);
    unsetenv("XDG_CACHE_HOME");
    assert_int_equal(choose(out, why), UP_CACHE_ON);
    assert_string_equal(out, path_in("home/.cache/eota"));
    assert_int_equal(mode_of(path_in("home/.cache/eota")), 0700);
    assert_int_equal(up_cache_dir(out, sizeof out), 0);
}

static void test_nothing_to_go_by_is_off_never_tmp(void **state)
{
    (void)state;
    char out[512], why[512];
    assert_int_equal(choose(out, why), UP_CACHE_OFF);
    assert_string_equal(why, "");
    setenv("HOME", "", 1);
    assert_int_equal(choose(out, why), UP_CACHE_OFF);
}

static void test_writable_by_others_refused(void **state)
{
    (void)state;
    char out[512], why[512];
    assert_int_equal(mkdir(path_in("shared"), 0700), 0);
    assert_int_equal(chmod(path_in("shared"), 01777), 0); /* as /tmp is */
    setenv("EOTA_CACHE_DIR", path_in("shared"), 1);
    assert_int_equal(choose(out, why), UP_CACHE_REFUSED);
    assert_non_null(strstr(why, path_in("shared")));
    assert_non_null(strstr(why, "can be written by every user (mode 1777)"));
    assert_int_equal(chmod(path_in("shared"), 0770), 0);
    assert_int_equal(choose(out, why), UP_CACHE_REFUSED);
    assert_non_null(strstr(why, "can be written by its group (mode 0770)"));
    assert_int_equal(chmod(path_in("shared"), 0700), 0);
    assert_int_equal(choose(out, why), UP_CACHE_ON);
    /* XDG_CACHE_HOME/eota is checked the same way */
    unsetenv("EOTA_CACHE_DIR");
    setenv("XDG_CACHE_HOME", path_in("shared"), 1);
    assert_int_equal(mkdir(path_in("shared/eota"), 0700), 0);
    assert_int_equal(chmod(path_in("shared/eota"), 0777), 0);
    assert_int_equal(choose(out, why), UP_CACHE_REFUSED);
    assert_non_null(strstr(why, "shared/eota can be written by every user"));
}

static void test_another_users_folder_refused(void **state)
{
    (void)state;
    char out[512], why[512], want[128];
    const char *theirs = "/"; /* root's, unless we are root */
    if (geteuid() == 0) {
        theirs = path_in("theirs");
        assert_int_equal(mkdir(theirs, 0700), 0);
        assert_int_equal(chown(theirs, 65534, 65534), 0);
    }
    setenv("EOTA_CACHE_DIR", theirs, 1);
    assert_int_equal(choose(out, why), UP_CACHE_REFUSED);
    snprintf(want, sizeof want, "belongs to another user (uid %ld, not %ld)", geteuid() == 0 ? 65534L : 0L,
             (long)geteuid());
    assert_non_null(strstr(why, want));
}

static void test_a_file_or_an_uncreatable_folder_refused(void **state)
{
    (void)state;
    char out[512], why[512];
    FILE *f = fopen(path_in("file"), "w");
    assert_non_null(f);
    fclose(f);
    setenv("EOTA_CACHE_DIR", path_in("file"), 1);
    assert_int_equal(choose(out, why), UP_CACHE_REFUSED);
    assert_non_null(strstr(why, "file is not a directory"));
    setenv("EOTA_CACHE_DIR", path_in("file/below"), 1);
    assert_int_equal(choose(out, why), UP_CACHE_REFUSED);
    assert_non_null(strstr(why, "cannot create the cache folder"));
    assert_non_null(strstr(why, "file/below: Not a directory"));
}

/* Everything written to stderr while up_cache_dir runs twice. */
static void test_refusal_said_once_on_stderr(void **state)
{
    (void)state;
    char out[512], text[2048] = "";
    assert_int_equal(mkdir(path_in("open"), 0777), 0);
    assert_int_equal(chmod(path_in("open"), 0777), 0);
    setenv("EOTA_CACHE_DIR", path_in("open"), 1);
    fflush(stderr);
    int saved = dup(2);
    FILE *cap = fopen(path_in("stderr.txt"), "w+");
    assert_non_null(cap);
    dup2(fileno(cap), 2);
    int a = up_cache_dir(out, sizeof out), b = up_cache_dir(out, sizeof out);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(cap);
    size_t n = fread(text, 1, sizeof text - 1, cap);
    text[n] = '\0';
    fclose(cap);
    assert_int_equal(a, -1);
    assert_int_equal(b, -1);
    const char *first = strstr(text, "eota upload: warning: the cache folder ");
    assert_non_null(first);
    assert_non_null(strstr(text, "can be written by every user (mode 0777); the caches are off for this run"));
    assert_null(strstr(first + 1, "eota upload: warning")); /* once */
}

/* Each test in a fresh folder, with none of the three variables set. */
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_eota_cache_dir_first_and_created_0700), T(test_off_creates_nothing),
        T(test_xdg_then_home), T(test_nothing_to_go_by_is_off_never_tmp),
        T(test_writable_by_others_refused), T(test_another_users_folder_refused),
        T(test_a_file_or_an_uncreatable_folder_refused), T(test_refusal_said_once_on_stderr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
