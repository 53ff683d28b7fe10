/*
 * text.h (core internal): the tables of names and sentences behind
 * eota_response_name/_describe (protocol.c) and eota_status_name/_describe
 * (status.c), and their one lookup. A build without descriptions
 * (EOTA_WITH_DESCRIPTIONS 0, eota/opt.h) leaves the sentences out of the
 * tables, so that they take no flash.
 */
#ifndef EOTA_CORE_TEXT_H
#define EOTA_CORE_TEXT_H

#include <stddef.h>

#include "eota/opt.h"

typedef struct eota_text {
    int key;              /* a response code or a status */
    const char *name;
#if EOTA_WITH_DESCRIPTIONS
    const char *sentence;
#endif
} eota_text;

/* One row of a table: {key, name, sentence}, the sentence only when built. */
#if EOTA_WITH_DESCRIPTIONS
#define EOTA_TEXT(key, name, sentence) {key, name, sentence}
#else
#define EOTA_TEXT(key, name, sentence) {key, name}
#endif

#define EOTA_TEXT_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* The row of `key`, or NULL. */
const eota_text *eota_text_find(const eota_text *table, size_t n, int key);

/* The row's sentence, its name when sentences are not built, or `fallback`
 * when there is no row. */
const char *eota_text_sentence(const eota_text *row, const char *fallback);

#endif
