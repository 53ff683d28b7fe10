/*
 * test_slots.c: the state directory of `eota device` (src/app/slots.c) on
 * real files: open creates the folders and an erased boot.flash and removes
 * what a crash left (.part, .tmp), the paths, reload after a change, the
 * --show-state lines, and the errors that name the file.
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

#include "eota/filestore.h"
#include "slots.h"

typedef struct fx {
    char tmp[64];
    char dir[128]; /* <tmp>/state/dev: two levels to create */
    char err[1024];
    eota_slots s;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    snprintf(x->tmp, sizeof x->tmp, "/tmp/eota_slots_XXXXXX");
    if (!mkdtemp(x->tmp))
        return -1;
    snprintf(x->dir, sizeof x->dir, "%s/state/dev", x->tmp);
    x->s.ff.fd = -1;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    eota_slots_close(&x->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", x->tmp);
    if (system(cmd) != 0)
        return -1;
    free(x);
    return 0;
}

static void touch(const char *dir, const char *name, long size)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    for (long i = 0; i < size; i++)
        fputc(0xAB, f);
    fclose(f);
}

static int exists(const char *dir, const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* The --show-state lines of x->dir. */
static char *show(fx *x, int *rc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    *rc = eota_slots_show(x->dir, out, x->err, sizeof x->err);
    fclose(out);
    return text;
}

static void test_open_creates_and_cleans(void **state)
{
    fx *x = *state;
    assert_int_equal(eota_slots_open(&x->s, x->dir, x->err, sizeof x->err), 0);
    struct stat st;
    char p[256];
    snprintf(p, sizeof p, "%s/boot.flash", x->dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 8192); /* two 4 KiB sectors */
    assert_int_equal(x->s.active, 0);
    assert_int_equal(eota_bootstate_seq(&x->s.bs), 0);
    assert_string_equal(eota_slots_path(&x->s, 'b', p, sizeof p) + strlen(x->dir), "/slot_b.bin");
    eota_slots_close(&x->s);
    /* what a crash leaves behind goes at the next open; the images stay */
    touch(x->dir, "slot_a.bin.part", 10);
    touch(x->dir, "boot.flash.tmp", 10);
    touch(x->dir, "slot_a.bin", 10);
    assert_int_equal(eota_slots_open(&x->s, x->dir, x->err, sizeof x->err), 0);
    assert_false(exists(x->dir, "slot_a.bin.part"));
    assert_false(exists(x->dir, "boot.flash.tmp"));
    assert_true(exists(x->dir, "slot_a.bin"));
}

static void test_reload_and_show(void **state)
{
    fx *x = *state;
    int rc;
    assert_int_equal(eota_slots_open(&x->s, x->dir, x->err, sizeof x->err), 0);
    char *text = show(x, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(text, "active=-\nseq=0\nattempts=0\nsafe_mode_requested=0\n"
                              "slot_a=empty\nslot_a_size=0\nslot_a_crc=00000000\nslot_a_install=0\n"
                              "slot_b=empty\nslot_b_size=0\nslot_b_crc=00000000\nslot_b_install=0\n"
                              "installs=0\n");
    free(text);
    /* an image installed in slot a, then a boot: reload sees it active */
    eota_boot_decision d;
    touch(x->dir, "slot_a.bin", 1234); /* the boot checks the file */
    uint8_t img[1234];
    char p[300];
    FILE *f = fopen(eota_slots_path(&x->s, 'a', p, sizeof p), "rb");
    assert_non_null(f);
    assert_int_equal(fread(img, 1, sizeof img, f), sizeof img);
    fclose(f);
    uint32_t crc = eota_filestore_crc32(0, img, sizeof img);
    char want[80];
    snprintf(want, sizeof want, "slot_a=trial\nslot_a_size=1234\nslot_a_crc=%08x\nslot_a_install=1\n", crc);
    assert_int_equal(eota_bootstate_prepare(&x->s.bs, 0), EOTA_OK);
    assert_int_equal(eota_bootstate_install(&x->s.bs, 0, 1234, crc), EOTA_OK);
    assert_int_equal(eota_boot(&x->s.bs, NULL, &d), EOTA_OK);
    assert_int_equal(eota_slots_reload(&x->s, x->err, sizeof x->err), 0);
    assert_int_equal(x->s.active, 'a');
    text = show(x, &rc); /* beside the open device: it changes nothing */
    assert_int_equal(rc, 0);
    assert_non_null(strstr(text, "active=a\n"));
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "installs=1\n"));
    free(text);
    assert_int_equal(eota_slots_reload(&x->s, x->err, sizeof x->err), 0);
    assert_int_equal(x->s.active, 'a');
}

static void test_errors_name_the_file(void **state)
{
    fx *x = *state;
    int rc;
    char want[300];
    /* --show-state of a folder no device has used */
    char *text = show(x, &rc);
    assert_int_equal(rc, -1);
    snprintf(want, sizeof want, "%s/boot.flash: No such file or directory (no device has run with this state directory)",
             x->dir);
    assert_string_equal(x->err, want);
    free(text);
    /* a state directory below a file */
    char below[160];
    touch(x->tmp, "plain", 1);
    snprintf(below, sizeof below, "%s/plain/dev", x->tmp);
    assert_int_equal(eota_slots_open(&x->s, below, x->err, sizeof x->err), -1);
    snprintf(want, sizeof want, "state directory %s: Not a directory", below);
    assert_string_equal(x->err, want);
    /* a boot.flash of another size: --show-state says so; a device starts
     * it again (and rebuilds it from the slots) */
    assert_int_equal(eota_slots_open(&x->s, x->dir, x->err, sizeof x->err), 0);
    eota_slots_close(&x->s);
    touch(x->dir, "boot.flash", 100);
    text = show(x, &rc);
    assert_int_equal(rc, -1);
    snprintf(want, sizeof want, "%s/boot.flash: 100 bytes instead of 8192 (truncated or damaged)", x->dir);
    assert_string_equal(x->err, want);
    free(text);
    assert_int_equal(eota_slots_open(&x->s, x->dir, x->err, sizeof x->err), 0);
    struct stat st;
    snprintf(below, sizeof below, "%s/boot.flash", x->dir);
    assert_int_equal(stat(below, &st), 0);
    assert_int_equal(st.st_size, 8192);
}

/* One device per state directory: a second open is refused while the
 * first holds it, and allowed once it is closed. */
static void test_one_device_per_directory(void **state)
{
    fx *x = *state;
    eota_slots other;
    assert_int_equal(eota_slots_open(&x->s, x->dir, x->err, sizeof x->err), 0);
    assert_int_equal(eota_slots_open(&other, x->dir, x->err, sizeof x->err), -1);
    char want[300];
    snprintf(want, sizeof want, "state directory %s is in use by another eota device", x->dir);
    assert_memory_equal(x->err, want, strlen(want));
    eota_slots_close(&x->s);
    assert_int_equal(eota_slots_open(&other, x->dir, x->err, sizeof x->err), 0);
    eota_slots_close(&other);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_creates_and_cleans),
        T(test_reload_and_show),
        T(test_errors_name_the_file),
        T(test_one_device_per_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
