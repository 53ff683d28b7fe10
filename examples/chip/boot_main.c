/*
 * boot_main.c: the second-stage bootloader, linked at CHIP_FLASH_BASE. It
 * runs at every reset, decides which image starts (chip_boot.c) and hands
 * the decision to it. No network, no engine: a few KiB.
 */
#include "chip_board.h"
#include "chip_boot.h"
#include "chip_flash.h"

static chip_flash flash;

int main(void)
{
    chip_boot_choice choice;

    chip_flash_init(&flash, board_flash_memory());
    (void)chip_boot_select(chip_flash_seam(&flash), &choice);
    board_handoff_write(&choice.d);
    if (choice.entry != 0)
        board_start_image(choice.entry);
    board_start_recovery();
    return 0;
}
