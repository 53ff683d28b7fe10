/*
 * text.c: the lookup in the core's tables of names and sentences (text.h).
 */
#include "text.h"

const eota_text *eota_text_find(const eota_text *table, size_t n, int key)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].key == key)
            return &table[i];
    return NULL;
}

const char *eota_text_sentence(const eota_text *row, const char *fallback)
{
    if (!row)
        return fallback;
#if EOTA_WITH_DESCRIPTIONS
    return row->sentence;
#else
    return row->name;
#endif
}
