/*
 * test_backoff.c: the per-address delays after wrong credentials
 * (src/app/backoff.c). It proves that the first failures are free, that
 * the delay then doubles up to the ceiling, that a burst opens once, that
 * another address is never slowed, that a success or a quiet spell forgets
 * the address, that a full table forgets the quietest one, and the keys
 * (IPv4, IPv6, IPv4-mapped IPv6 as IPv4, no address).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "backoff.h"

static void test_free_then_doubling_to_ceiling(void **state)
{
    (void)state;
    backoff b;
    backoff_init(&b);
    uint32_t d = 99;
    uint64_t t = 1000;
    assert_int_equal(backoff_failed(&b, "10.0.0.2", t, &d), 1); /* opens the burst */
    assert_int_equal(d, 0);
    assert_int_equal(backoff_failed(&b, "10.0.0.2", t, &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(backoff_failed(&b, "10.0.0.2", t, &d), 0);
    assert_int_equal(d, 0); /* three free */
    assert_int_equal(backoff_wait_ms(&b, "10.0.0.2", t), 0);
    assert_int_equal(backoff_failed(&b, "10.0.0.2", t, &d), 0);
    assert_int_equal(d, BACKOFF_BASE_MS);
    assert_int_equal(backoff_wait_ms(&b, "10.0.0.2", t + 100), BACKOFF_BASE_MS - 100);
    assert_int_equal(backoff_failed(&b, "10.0.0.2", t, &d), 0);
    assert_int_equal(d, 2 * BACKOFF_BASE_MS);
    for (int i = 0; i < 40; i++)
        backoff_failed(&b, "10.0.0.2", t, &d);
    assert_int_equal(d, BACKOFF_MAX_MS);
    assert_int_equal(backoff_fails(&b, "10.0.0.2", t), 45);
    /* the owner elsewhere is not slowed */
    assert_int_equal(backoff_wait_ms(&b, "10.0.0.1", t), 0);
    assert_int_equal(backoff_fails(&b, "10.0.0.1", t), 0);
}

static void test_success_and_quiet_forget(void **state)
{
    (void)state;
    backoff b;
    backoff_init(&b);
    for (int i = 0; i < 5; i++)
        backoff_failed(&b, "::1", 0, NULL);
    assert_true(backoff_wait_ms(&b, "::1", 0) > 0);
    backoff_succeeded(&b, "::1");
    assert_int_equal(backoff_wait_ms(&b, "::1", 0), 0);
    assert_int_equal(backoff_failed(&b, "::1", 0, NULL), 1); /* a new burst */
    /* quiet for the forget time (and past its delay): a new burst */
    assert_int_equal(backoff_failed(&b, "::1", BACKOFF_FORGET_MS - 1, NULL), 0);
    assert_int_equal(backoff_failed(&b, "::1", 2 * BACKOFF_FORGET_MS, NULL), 1);
    assert_int_equal(backoff_fails(&b, "::1", 2 * BACKOFF_FORGET_MS), 1);
}

static void test_full_table_forgets_quietest(void **state)
{
    (void)state;
    backoff b;
    backoff_init(&b);
    char key[32];
    for (int i = 0; i < BACKOFF_SLOTS; i++) {
        snprintf(key, sizeof key, "10.0.1.%d", i);
        backoff_failed(&b, key, 100 + (uint64_t)i, NULL);
    }
    assert_int_equal(backoff_failed(&b, "10.0.2.1", 500, NULL), 1);
    assert_int_equal(backoff_fails(&b, "10.0.1.0", 500), 0); /* the quietest went */
    assert_int_equal(backoff_fails(&b, "10.0.1.1", 500), 1);
    assert_int_equal(backoff_fails(&b, "10.0.2.1", 500), 1);
}

static void test_keys(void **state)
{
    (void)state;
    char key[BACKOFF_KEY_LEN];
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(80)};
    inet_pton(AF_INET, "127.0.0.2", &a4.sin_addr);
    backoff_key((struct sockaddr *)&a4, key);
    assert_string_equal(key, "127.0.0.2");
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
    inet_pton(AF_INET6, "::ffff:127.0.0.2", &a6.sin6_addr);
    backoff_key((struct sockaddr *)&a6, key);
    assert_string_equal(key, "127.0.0.2");
    inet_pton(AF_INET6, "fe80::1", &a6.sin6_addr);
    backoff_key((struct sockaddr *)&a6, key);
    assert_string_equal(key, "fe80::1");
    backoff_key(NULL, key);
    assert_string_equal(key, "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_then_doubling_to_ceiling),
        cmocka_unit_test(test_success_and_quiet_forget),
        cmocka_unit_test(test_full_table_forgets_quietest),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
