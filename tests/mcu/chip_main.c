/*
 * chip_main.c: the chip integration example (examples/chip/) run on the
 * emulated Cortex-M: the board of chip_board.h over the golden replayer's
 * seams, and a device's life played through the example's own code:
 *
 *   boot 1   a blank flash: no image, OTA only
 *            the v2 golden transcript uploaded through chip_ota: same device
 *            bytes, events and info as the file; the image lands in slot A
 *   boot 2   the bootloader starts slot A on trial; after 60 s up, safe mode
 *            confirms it (VALID)
 *            the same upload again: into slot B
 *   boot 3   slot B on trial; it dies before it is confirmed
 *   boot 4   the bootloader rolls back to slot A; B is INVALID
 *
 * One `PASS chip: ...` or `FAIL chip: ...: reason` line per step, then the
 * memory the example takes on this core; the exit status counts failures.
 */
#include <string.h>

#include "chip_board.h"
#include "chip_boot.h"
#include "chip_flash.h"
#include "chip_layout.h"
#include "chip_ota.h"
#include "golden_mcu.h"
#include "semihost.h"

static uint8_t flash_mem[CHIP_FLASH_SIZE]; /* the part's flash: kept across "resets" */
static chip_flash flash;
static golden_world world;
static eota_server_config seams;           /* the world's seams, handed out by board_*() */
static void *waiting;                      /* a client for board_accept */

/* ---- the board (chip_board.h) over the replayer's world ---- */

eota_clock board_clock(void) { return seams.clock; }
eota_random board_random(void) { return seams.random; }
eota_hash board_hash(void) { return seams.hash; }
const eota_transport_ops *board_transport(void) { return seams.transport; }
eota_events board_events(void) { return seams.events; }

void *board_accept(void)
{
    void *c = waiting;
    waiting = NULL;
    return c;
}

/* ---- the application, as a replay target ---- */

typedef struct chip_app {
    chip_ota ota;
    eota_boot_decision d;  /* this boot's */
    int slot;              /* the slot the upload goes to */
} chip_app;

static chip_app app;

static void world_up(const golden_transcript *t)
{
    golden_world_init(&world, t);
    memset(&seams, 0, sizeof seams);
    golden_world_seams(&world, t, &seams);
}

static int app_start(void *ctx, golden_world *w, const golden_transcript *t)
{
    chip_app *a = ctx;
    memset(&seams, 0, sizeof seams);
    golden_world_seams(w, t, &seams);
    int st = chip_ota_start(&a->ota, chip_flash_seam(&flash), &a->d, t->config.password);
    a->slot = eota_bootstate_target(&a->ota.bs);
    waiting = golden_world_conn(w); /* accepted in the next turn of the loop */
    return st;
}

static int app_poll(void *ctx)
{
    return chip_ota_poll(&((chip_app *)ctx)->ota) == CHIP_OTA_REBOOT ? EOTA_SERVER_REBOOT : EOTA_SERVER_ACTIVE;
}

static const eota_server *app_server(void *ctx) { return &((chip_app *)ctx)->ota.srv; }

/* The result: line, seen from the flash: the image installed (NEW) in the
 * slot the upload went to, its size, its bytes. */
static int app_result(void *ctx, const golden_outcome *o, golden_text *why)
{
    chip_app *a = ctx;
    eota_slot_info si;
    uint32_t installed = eota_bootstate_slot(&a->ota.bs, a->slot, &si) == EOTA_SLOT_NEW;
    const uint8_t *image = flash_mem + (chip_slot_entry(a->slot) - CHIP_FLASH_BASE);
    const golden_field f[] = {
        {"slot installed", installed, o->committed},
        {"slot image size", installed ? si.size : 0u, o->committed_len},
        {"slot holds the image", installed && golden_is_pattern(image, si.size, 0), o->committed},
    };
    return golden_check_fields(f, sizeof f / sizeof f[0], why);
}

/* ---- the steps ---- */

static uint32_t failures;

static void report(const char *step, int ok, const golden_text *why)
{
    failures += !ok;
    sh_puts(ok ? "PASS chip: " : "FAIL chip: ");
    sh_puts(step);
    if (!ok) {
        sh_puts(": ");
        sh_puts(why->s);
    }
    sh_puts("\n");
}

static void boot(const char *step, int slot, int trial, int rolled_back)
{
    chip_boot_choice c;
    golden_text why = {.len = 0};
    int st = chip_boot_select(chip_flash_seam(&flash), &c);
    const golden_field f[] = {
        {"status", (uint32_t)-st, 0},
        {"slot (255: none)", (uint8_t)c.d.slot, (uint8_t)slot},
        {"entry", c.entry, slot < 0 ? 0u : chip_slot_entry(slot)},
        {"on trial", c.d.trial, (uint32_t)trial},
        {"rolled back", c.d.rolled_back, (uint32_t)rolled_back},
    };
    report(step, golden_check_fields(f, sizeof f / sizeof f[0], &why), &why);
    app.d = c.d;
}

static void upload(const char *step, int slot)
{
    const golden_target target = {app_start, app_poll, app_server, app_result, &app};
    golden_text why;
    int ok = golden_play(&golden_transcripts[0], &target, &world, &why);
    const golden_field f = {"upload went to slot", (uint32_t)app.slot, (uint32_t)slot};
    report(step, ok && golden_check_fields(&f, 1, &why), &why);
}

/* The application runs for 61 s of its clock: safe mode confirms the boot. */
static void run_until_confirmed(const char *step, int slot)
{
    golden_text why = {.len = 0};
    world_up(&golden_transcripts[0]);
    int st = chip_ota_start(&app.ota, chip_flash_seam(&flash), &app.d, "");
    for (int s = 0; s < 61 && st == EOTA_OK; s++) {
        world.now_ms += 1000u;
        (void)chip_ota_poll(&app.ota);
    }
    const golden_field f[] = {
        {"status", (uint32_t)-st, 0},
        {"slot state", eota_bootstate_slot(&app.ota.bs, slot, NULL), EOTA_SLOT_VALID},
        {"boots counted", eota_bootstate_attempts(&app.ota.bs), 0},
    };
    report(step, golden_check_fields(f, sizeof f / sizeof f[0], &why), &why);
}

static void check_invalid(const char *step, int slot)
{
    golden_text why = {.len = 0};
    world_up(&golden_transcripts[0]);
    int st = chip_ota_start(&app.ota, chip_flash_seam(&flash), &app.d, "");
    const golden_field f[] = {
        {"status", (uint32_t)-st, 0},
        {"slot state", eota_bootstate_slot(&app.ota.bs, slot, NULL), EOTA_SLOT_INVALID},
    };
    report(step, golden_check_fields(f, sizeof f / sizeof f[0], &why), &why);
}

static void memory_report(void)
{
    static const struct {
        const char *name;
        uint32_t bytes;
    } m[] = {
        {"eota_server", sizeof(eota_server)},       {"transfer buffer", CHIP_OTA_XFER},
        {"eota_bootstate", sizeof(eota_bootstate)}, {"eota_safe_mode", sizeof(eota_safe_mode)},
        {"eota_flash_backend", sizeof(eota_flash_backend)}, {"staging buffer", CHIP_OTA_STAGE},
        {"chip_ota in all", sizeof(chip_ota)},
    };
    golden_text t = {.len = 0};
    golden_put(&t, "memory (bytes):");
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        golden_put(&t, i ? ", " : " ");
        golden_put(&t, m[i].name);
        golden_put(&t, " ");
        golden_put_u32(&t, m[i].bytes);
    }
    golden_put(&t, "\n");
    sh_puts(t.s);
}

int main(void)
{
    memset(flash_mem, CHIP_FLASH_ERASED, sizeof flash_mem); /* a new part */
    chip_flash_init(&flash, flash_mem);
    boot("boot 1, blank flash: no image, OTA only", -1, 0, 0);
    upload("upload v2 transcript through the example: into slot A", 0);
    boot("boot 2: slot A on trial", 0, 1, 0);
    run_until_confirmed("slot A confirmed after 60 s up", 0);
    upload("upload again: into slot B", 1);
    boot("boot 3: slot B on trial (it dies before it is confirmed)", 1, 1, 0);
    boot("boot 4: rolled back to slot A", 0, 0, 1);
    check_invalid("slot B is INVALID", 1);
    memory_report();
    return failures ? 1 : 0;
}
