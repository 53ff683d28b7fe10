/*
 * backoff.c: per-address delays after wrong credentials (backoff.h).
 */
#include "backoff.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

void backoff_init(backoff *b)
{
    memset(b, 0, sizeof *b);
    b->free_fails = BACKOFF_FREE;
    b->base_ms = BACKOFF_BASE_MS;
    b->max_ms = BACKOFF_MAX_MS;
    b->forget_ms = BACKOFF_FORGET_MS;
}

void backoff_key(const struct sockaddr *sa, char key[BACKOFF_KEY_LEN])
{
    snprintf(key, BACKOFF_KEY_LEN, "?");
    if (sa && sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, key, BACKOFF_KEY_LEN);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], key, BACKOFF_KEY_LEN);
        else
            inet_ntop(AF_INET6, a, key, BACKOFF_KEY_LEN);
    }
}

/* The address's entry, or NULL. An entry quiet for forget_ms is freed. */
static backoff_entry *find(backoff *b, const char *key, uint64_t now_ms)
{
    for (int i = 0; i < BACKOFF_SLOTS; i++) {
        backoff_entry *e = &b->e[i];
        if (e->key[0] && now_ms - e->last_fail_ms >= b->forget_ms && now_ms >= e->until_ms)
            e->key[0] = '\0';
        else if (e->key[0] && strcmp(e->key, key) == 0)
            return e;
    }
    return NULL;
}

/* A free entry, or the one quiet the longest. */
static backoff_entry *take(backoff *b, const char *key)
{
    backoff_entry *best = &b->e[0];
    for (int i = 0; i < BACKOFF_SLOTS; i++) {
        backoff_entry *e = &b->e[i];
        if (!e->key[0]) {
            best = e;
            break;
        }
        if (e->last_fail_ms < best->last_fail_ms)
            best = e;
    }
    memset(best, 0, sizeof *best);
    snprintf(best->key, sizeof best->key, "%s", key);
    return best;
}

uint64_t backoff_wait_ms(backoff *b, const char *key, uint64_t now_ms)
{
    const backoff_entry *e = find(b, key, now_ms);
    return e && e->until_ms > now_ms ? e->until_ms - now_ms : 0;
}

int backoff_failed(backoff *b, const char *key, uint64_t now_ms, uint32_t *delay_ms)
{
    backoff_entry *e = find(b, key, now_ms);
    int opens = e == NULL;
    if (!e)
        e = take(b, key);
    e->fails++;
    e->last_fail_ms = now_ms;
    uint32_t delay = 0;
    if (e->fails > b->free_fails) {
        uint32_t shift = e->fails - b->free_fails - 1;
        delay = shift >= 16 ? b->max_ms : b->base_ms << shift;
        if (delay > b->max_ms)
            delay = b->max_ms;
    }
    e->until_ms = now_ms + delay;
    if (delay_ms)
        *delay_ms = delay;
    return opens;
}

uint32_t backoff_fails(backoff *b, const char *key, uint64_t now_ms)
{
    const backoff_entry *e = find(b, key, now_ms);
    return e ? e->fails : 0;
}

void backoff_succeeded(backoff *b, const char *key)
{
    for (int i = 0; i < BACKOFF_SLOTS; i++)
        if (b->e[i].key[0] && strcmp(b->e[i].key, key) == 0)
            b->e[i].key[0] = '\0';
}
