/*
 * wire.c: the I/O helpers both engines share (see wire.h): the exact reads
 * that make any fragmentation give the same result, and the ordered queue
 * of replies that leave whenever the transport takes them; the password
 * and wipe helpers.
 */
#include "wire.h"

#include <string.h>

void eota_wire_open(eota_wire *w, void *conn)
{
    w->conn = conn;
    w->in_need = w->in_have = 0;
    w->out_len = w->out_pos = 0;
}

void eota_wire_release(eota_wire *w)
{
    if (w->conn) {
        void *c = w->conn;
        w->conn = NULL;
        w->transport->close(c);
    }
    w->out_len = w->out_pos = 0;
}

int eota_wire_queue(eota_wire *w, const void *data, size_t n)
{
    if (w->out_len + n > sizeof w->out) {
        size_t p = eota_wire_out_pending(w);
        memmove(w->out, w->out + w->out_pos, p);
        w->out_pos = 0;
        w->out_len = p;
        if (p + n > sizeof w->out)
            return 0;
    }
    memcpy(w->out + w->out_len, data, n);
    w->out_len += n;
    return 1;
}

void eota_wire_expect(eota_wire *w, size_t need)
{
    w->in_need = need;
    w->in_have = 0;
}

long eota_wire_read_field(eota_wire *w)
{
    size_t want = w->in_need - w->in_have;
    long n = w->transport->read(w->conn, w->in + w->in_have, want);
    if (n <= 0)
        return n;
    if ((size_t)n > want)
        n = (long)want; /* a misbehaving transport cannot make us overflow */
    w->in_have += (size_t)n;
    return n;
}

int eota_wire_flush(eota_wire *w, long *err)
{
    int moved = 0;
    *err = 0;
    while (w->conn && eota_wire_out_pending(w) > 0) {
        long n = w->transport->write(w->conn, w->out + w->out_pos, eota_wire_out_pending(w));
        if (n == EOTA_AGAIN || n == 0)
            break;
        if (n < 0) {
            *err = n;
            return moved;
        }
        if ((size_t)n > eota_wire_out_pending(w))
            n = (long)eota_wire_out_pending(w);
        w->out_pos += (size_t)n;
        moved = 1;
    }
    if (w->out_pos == w->out_len)
        w->out_pos = w->out_len = 0;
    return moved;
}

long eota_wire_remaining(uint32_t start, uint32_t limit, uint32_t t)
{
    uint32_t spent = t - start;
    return spent >= limit ? 0 : (long)(limit - spent);
}

int eota_wire_set_password(char *dst, size_t cap, const char *password)
{
    size_t n = password ? strlen(password) : 0;
    if (n >= cap)
        return EOTA_EINVAL;
    if (n)
        memcpy(dst, password, n);
    memset(dst + n, 0, cap - n);
    return EOTA_OK;
}

int eota_wire_password_fits(const char *password, size_t max)
{
    for (size_t n = 0; password && n <= max; n++)
        if (password[n] == '\0')
            return 1;
    return !password;
}

void eota_wire_wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}
