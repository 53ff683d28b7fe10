/*
 * test_net.c: the socket helpers of the eota command (src/app/net.c). It
 * proves addresses as text (IPv4, IPv6 with and without brackets, another
 * family or none as "?:0", a short buffer cut, a peer or no peer); that a
 * listener with port 0 gets a port, is non-blocking and close-on-exec and
 * takes connections, on IPv4 and IPv6 loopback, and is IPv6-only on IPv6 (so
 * that :: and 0.0.0.0 can both be opened); and that a listener that cannot
 * be made says what and where in its error, leaks no descriptor and leaves
 * the caller's family alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "net.h"

/* A numeric address of the family (AF_INET or AF_INET6) into ss. */
static struct sockaddr *addr_of(struct sockaddr_storage *ss, int family, const char *host, uint16_t port)
{
    memset(ss, 0, sizeof *ss);
    ss->ss_family = (sa_family_t)family;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_port = htons(port);
        assert_int_equal(inet_pton(AF_INET6, host, &a->sin6_addr), 1);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_port = htons(port);
        assert_int_equal(inet_pton(AF_INET, host, &a->sin_addr), 1);
    }
    return (struct sockaddr *)ss;
}

/* The lowest free descriptor: the same before and after means no leak. */
static int next_fd(void)
{
    int fd = dup(STDIN_FILENO);
    assert_true(fd >= 0);
    close(fd);
    return fd;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* --- addresses as text --- */

static void test_addr_text_v4_and_v6(void **state)
{
    (void)state;
    static const struct {
        int family;
        const char *host;
        uint16_t port;
        int brackets;
        const char *want;
    } rows[] = {
        {AF_INET, "192.168.1.20", 8266, 1, "192.168.1.20:8266"},
        {AF_INET, "192.168.1.20", 8266, 0, "192.168.1.20:8266"},
        {AF_INET, "0.0.0.0", 0, 1, "0.0.0.0:0"},
        {AF_INET6, "::1", 3232, 1, "[::1]:3232"},
        {AF_INET6, "::1", 3232, 0, "::1:3232"},
        {AF_INET6, "fe80::1:2:3:4", 65535, 1, "[fe80::1:2:3:4]:65535"},
        /* the longest text */
        {AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, 1, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"},
        {AF_INET6, "::ffff:10.0.0.1", 80, 1, "[::ffff:10.0.0.1]:80"}, /* IPv4-mapped stays IPv6 */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct sockaddr_storage ss;
        char buf[80];
        net_addr_text(addr_of(&ss, rows[i].family, rows[i].host, rows[i].port), rows[i].brackets, buf, sizeof buf);
        assert_string_equal(buf, rows[i].want);
    }
}

static void test_addr_text_unknown(void **state)
{
    (void)state;
    char buf[32];
    net_addr_text(NULL, 1, buf, sizeof buf);
    assert_string_equal(buf, "?:0");
    struct sockaddr_un u;
    memset(&u, 0, sizeof u);
    u.sun_family = AF_UNIX;
    strcpy(u.sun_path, "/tmp/x");
    net_addr_text((struct sockaddr *)&u, 1, buf, sizeof buf);
    assert_string_equal(buf, "?:0");
}

static void test_addr_text_cut_to_buffer(void **state)
{
    (void)state;
    char buf[8];
    memset(buf, 'x', sizeof buf);
    struct sockaddr_storage ss;
    net_addr_text(addr_of(&ss, AF_INET, "192.168.100.200", 8266), 1, buf, 6);
    assert_string_equal(buf, "192.1");
    assert_int_equal(buf[6], 'x');
}

/* --- listeners --- */

/* A listener on addr, port 0, of that family: it has a port, is
 * non-blocking and close-on-exec. The test is skipped where the family is
 * not there (IPv6 off). */
static int listen_on(const char *addr, int want_family)
{
    char err[128] = "";
    int family = -1;
    int fd = eota_net_listen(addr, 0, 4, &family, err, sizeof err);
    if (fd < 0 && (strstr(err, "Cannot assign") || strstr(err, "not supported")))
        skip();
    assert_true(fd >= 0);
    assert_string_equal(err, "");
    assert_int_equal(family, want_family);
    assert_true(bound_port(fd) != 0);
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    return fd;
}

/* A connection to host on the listener's port is accepted, and the
 * accepted socket's peer text is host:port of the connecting socket. */
static void assert_accepts(int fd, int family, const char *host)
{
    int c = socket(family, SOCK_STREAM, 0);
    struct sockaddr_storage to;
    socklen_t tl = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    assert_int_equal(connect(c, addr_of(&to, family, host, bound_port(fd)), tl), 0);
    int s = accept(fd, NULL, NULL);
    assert_true(s >= 0);
    char peer[64], want[64];
    net_peer_text(s, peer, sizeof peer);
    snprintf(want, sizeof want, "%s:%u", host, bound_port(c));
    assert_string_equal(peer, want);
    close(s);
    close(c);
}

static void test_listen_v4_loopback_port_0(void **state)
{
    (void)state;
    int fd = listen_on("127.0.0.1", AF_INET);
    assert_accepts(fd, AF_INET, "127.0.0.1");
    close(fd);
}

static void test_listen_v6_loopback(void **state)
{
    (void)state;
    int fd = listen_on("::1", AF_INET6);
    assert_accepts(fd, AF_INET6, "::1");
    close(fd);
}

/* On "::" (which Linux would otherwise open for IPv4 too; opened for an
 * instant and never accepted on), then 0.0.0.0 on the same port. */
static void test_listen_v6_wildcard_is_v6_only(void **state)
{
    (void)state;
    int fd = listen_on("::", AF_INET6);
    int only = 0;
    socklen_t ol = sizeof only;
    assert_int_equal(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, &ol), 0);
    assert_int_equal(only, 1);
    char err[128] = "";
    int fd4 = eota_net_listen("0.0.0.0", bound_port(fd), 1, NULL, err, sizeof err);
    close(fd);
    assert_true(fd4 >= 0);
    close(fd4);
}

static void test_peer_text_without_peer(void **state)
{
    (void)state;
    char buf[32];
    int fd = eota_net_listen("127.0.0.1", 0, 1, NULL, buf, sizeof buf);
    assert_true(fd >= 0);
    net_peer_text(fd, buf, sizeof buf);
    assert_string_equal(buf, "?:0");
    close(fd);
    net_peer_text(-1, buf, sizeof buf);
    assert_string_equal(buf, "?:0");
}

static void test_listen_bad_address(void **state)
{
    (void)state;
    char err[128];
    int family = -7;
    int before = next_fd();
    assert_int_equal(eota_net_listen("localhost", 0, 4, &family, err, sizeof err), -1);
    assert_non_null(strstr(err, "listen address 'localhost': "));
    assert_int_equal(eota_net_listen("300.1.2.3", 0, 4, &family, err, sizeof err), -1);
    assert_non_null(strstr(err, "listen address '300.1.2.3': "));
    assert_int_equal(family, -7);
    assert_int_equal(next_fd(), before);
}

static void test_listen_port_in_use(void **state)
{
    (void)state;
    char err[128], want[64];
    int family = -7;
    int fd = eota_net_listen("127.0.0.1", 0, 4, NULL, err, sizeof err);
    assert_true(fd >= 0);
    uint16_t port = bound_port(fd);
    int before = next_fd();
    assert_int_equal(eota_net_listen("127.0.0.1", port, 4, &family, err, sizeof err), -1);
    snprintf(want, sizeof want, "listen on [127.0.0.1]:%u: ", port);
    assert_memory_equal(err, want, strlen(want));
    assert_non_null(strstr(err, "in use"));
    assert_int_equal(family, -7);
    assert_int_equal(next_fd(), before); /* the failed socket is closed */
    close(fd);
}

static void test_listen_error_cut_to_buffer(void **state)
{
    (void)state;
    char err[16];
    memset(err, 'x', sizeof err);
    assert_int_equal(eota_net_listen("not-an-address-at-all", 0, 4, NULL, err, 10), -1);
    assert_string_equal(err, "listen ad");
    assert_int_equal(err[10], 'x');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_text_v4_and_v6),
        cmocka_unit_test(test_addr_text_unknown),
        cmocka_unit_test(test_addr_text_cut_to_buffer),
        cmocka_unit_test(test_listen_v4_loopback_port_0),
        cmocka_unit_test(test_listen_v6_loopback),
        cmocka_unit_test(test_listen_v6_wildcard_is_v6_only),
        cmocka_unit_test(test_peer_text_without_peer),
        cmocka_unit_test(test_listen_bad_address),
        cmocka_unit_test(test_listen_port_in_use),
        cmocka_unit_test(test_listen_error_cut_to_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
