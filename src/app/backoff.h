/*
 * backoff.h: slowing down guesses, per source address. Each address that
 * gets credentials wrong (the OTA password, the web server's, later Noise
 * keys) has a count of failures; after a few free ones, its next attempt
 * must wait, a delay that doubles with each further failure up to a
 * ceiling. A success or a quiet spell forgets the address. Other addresses
 * are never slowed: the owner at another address gets in at once.
 *
 * A run of failures from one address is a burst: backoff_failed says when
 * a failure opens one, so that the caller logs it and fires its automations
 * once per burst, not once per guess. Fixed memory (BACKOFF_SLOTS
 * addresses; when full, the address quiet the longest is forgotten).
 */
#ifndef EOTA_APP_BACKOFF_H
#define EOTA_APP_BACKOFF_H

#include <stdint.h>
#include <sys/socket.h>

#define BACKOFF_SLOTS 64
#define BACKOFF_KEY_LEN 46 /* INET6_ADDRSTRLEN */

/* The defaults: 3 free failures, then 500 ms after the 4th, doubling up
 * to 30 s; an
 * address quiet for 60 s is forgotten (its burst is over). */
#define BACKOFF_FREE 3u
#define BACKOFF_BASE_MS 500u
#define BACKOFF_MAX_MS 30000u
#define BACKOFF_FORGET_MS 60000u

typedef struct backoff_entry {
    char key[BACKOFF_KEY_LEN]; /* the address as text; "" when free */
    uint32_t fails;            /* in this burst */
    uint64_t last_fail_ms;
    uint64_t until_ms;         /* its next attempt waits until then */
} backoff_entry;

typedef struct backoff {
    backoff_entry e[BACKOFF_SLOTS];
    uint32_t free_fails, base_ms, max_ms, forget_ms;
} backoff;

/* The defaults above. */
void backoff_init(backoff *b);

/* An address without its port ("127.0.0.1", "::1"; an IPv4-mapped IPv6
 * address as IPv4), the key of the calls below. */
void backoff_key(const struct sockaddr *sa, char key[BACKOFF_KEY_LEN]);

/* How long (ms) the address must still wait before its next attempt: 0
 * when it may try now. */
uint64_t backoff_wait_ms(backoff *b, const char *key, uint64_t now_ms);

/* A failure from the address. Returns 1 when it opens a burst (say it,
 * fire the automations), 0 within one. *delay_ms (may be NULL) is the wait
 * now imposed on its next attempt. */
int backoff_failed(backoff *b, const char *key, uint64_t now_ms, uint32_t *delay_ms);

/* Failures of the address in its current burst (0: none). */
uint32_t backoff_fails(backoff *b, const char *key, uint64_t now_ms);

/* A success: the address is forgotten. */
void backoff_succeeded(backoff *b, const char *key);

#endif
