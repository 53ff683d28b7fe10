/*
 * test_upload_journal.c: the rollout journal (src/app/upload/journal.c):
 * records found again after a reopen, only for the same image; a record
 * replaced, not doubled; a damaged or foreign file refused with its name
 * and line; and a power cut between the write and the rename (the test
 * hook EOTA_TEST_JOURNAL_CUT, in a child process) leaves the journal as it
 * was before, readable, with every finished record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#include "upload/journal.h"

static char dir[64], path[96];
static char err[512];

#define SHA_A "aa00000000000000000000000000000000000000000000000000000000000000"
#define SHA_B "bb00000000000000000000000000000000000000000000000000000000000000"

static int setup(void **state)
{
    (void)state;
    test_tmpdir_make(dir, sizeof dir, "journal");
    snprintf(path, sizeof path, "%s/rollout.json", dir);
    unsetenv("EOTA_TEST_JOURNAL_CUT");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove(dir);
}

static void write_text(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_records_survive_a_reopen(void **state)
{
    (void)state;
    up_journal jr;
    assert_int_equal(up_journal_open(&jr, path, err, sizeof err), 0);
    assert_null(up_journal_outcome(&jr, "kitchen.local", SHA_A));
    assert_int_equal(up_journal_record(&jr, "kitchen.local", SHA_A, "installed", NULL, err, sizeof err), 0);
    assert_int_equal(up_journal_record(&jr, "garage:8266", SHA_A, "failed", "refused", err, sizeof err), 0);
    assert_int_equal(up_journal_record(&jr, "garage:8266", SHA_A, "installed", NULL, err, sizeof err), 0);
    up_journal_free(&jr);

    assert_int_equal(up_journal_open(&jr, path, err, sizeof err), 0);
    assert_string_equal(up_journal_outcome(&jr, "kitchen.local", SHA_A), "installed");
    assert_string_equal(up_journal_outcome(&jr, "garage:8266", SHA_A), "installed");
    assert_null(up_journal_outcome(&jr, "kitchen.local", SHA_B)); /* another image: not done */
    assert_null(up_journal_outcome(&jr, "attic", SHA_A));
    up_journal_free(&jr);
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_not_equal(access(tmp, F_OK), 0);
}

static void test_damaged_or_foreign_file(void **state)
{
    (void)state;
    up_journal jr;
    write_text("{\n  \"eota_journal\": 1,\n  \"devices\": [\n    {\"device\": \"x\",,}\n  ]\n}\n");
    assert_int_equal(up_journal_open(&jr, path, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, ":4: the journal is not valid JSON"));
    write_text("[1, 2, 3]\n");
    assert_int_equal(up_journal_open(&jr, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "not an eota journal"));
    write_text("{\"eota_journal\": 7, \"devices\": []}");
    assert_int_equal(up_journal_open(&jr, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "journal format 7"));
}

static void record_in_child(const char *cut, const char *device)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("EOTA_TEST_JOURNAL_CUT", cut, 1);
        up_journal jr;
        if (up_journal_open(&jr, path, err, sizeof err) != 0)
            _exit(1);
        int rc = up_journal_record(&jr, device, SHA_A, "installed", NULL, err, sizeof err);
        _exit(rc == 0 ? 0 : 2);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), strcmp(cut, "1") == 0 ? 137 : 0);
}

static void test_power_cut_before_the_rename(void **state)
{
    (void)state;
    record_in_child("0", "one"); /* no cut: written */
    record_in_child("1", "two"); /* cut after writing the new journal, before the rename */
    up_journal jr;
    assert_int_equal(up_journal_open(&jr, path, err, sizeof err), 0);
    assert_string_equal(up_journal_outcome(&jr, "one", SHA_A), "installed");
    assert_null(up_journal_outcome(&jr, "two", SHA_A));
    /* the next run writes through the left-over temporary file */
    assert_int_equal(up_journal_record(&jr, "two", SHA_A, "installed", NULL, err, sizeof err), 0);
    up_journal_free(&jr);
    assert_int_equal(up_journal_open(&jr, path, err, sizeof err), 0);
    assert_string_equal(up_journal_outcome(&jr, "one", SHA_A), "installed");
    assert_string_equal(up_journal_outcome(&jr, "two", SHA_A), "installed");
    up_journal_free(&jr);
}

static void test_unwritable_folder(void **state)
{
    (void)state;
    up_journal jr;
    assert_int_equal(up_journal_open(&jr, "/nonexistent-eota-dir/j.json", err, sizeof err), 0);
    assert_int_equal(up_journal_record(&jr, "x", SHA_A, "installed", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot write the journal /nonexistent-eota-dir/j.json"));
    up_journal_free(&jr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_records_survive_a_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_or_foreign_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_before_the_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_folder, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
