/*
 * text.h (core internal): the tables of names and sentences behind
 * eota_response_name/_describe (protocol.c) and eota_status_name/_describe
 * (status.c), and their one lookup. A build without descriptions
 * (EOTA_WITH_DESCRIPTIONS 0, eota/opt.h) leaves the sentences out of the
 * tables, so that they take no flash. And EOTA_LOG_TEXT, which every log
 * sentence of the engines goes through (EOTA_WITH_LOG_TEXT).
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

/* A log sentence (a string literal) for eota_events.on_log: itself, or
 * NULL in a build without EOTA_WITH_LOG_TEXT, so that the call site holds
 * no string at all; the engines' log function hands on_log "" then (the
 * level and the number still go to on_log). */
#if EOTA_WITH_LOG_TEXT
#define EOTA_LOG_TEXT(sentence) (sentence)
#else
#define EOTA_LOG_TEXT(sentence) NULL
#endif

/* The row of `key`, or NULL. */
const eota_text *eota_text_find(const eota_text *table, size_t n, int key);

/* The row's sentence, its name when sentences are not built, or `fallback`
 * when there is no row. */
const char *eota_text_sentence(const eota_text *row, const char *fallback);

#endif
