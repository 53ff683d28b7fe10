/*
 * wire.h (internal, not installed): the I/O helpers the device engine
 * (server.c) and the uploader engine (client.c) share, over the eota_wire
 * both embed (eota/wire.h). Exact reads of fixed-size fields, an ordered
 * queue of bytes for the peer, and small time, password and wipe helpers.
 */
#ifndef EOTA_CORE_WIRE_H
#define EOTA_CORE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "eota/wire.h"

/* Bytes queued and not yet taken by the transport. */
static inline size_t eota_wire_out_pending(const eota_wire *w) { return w->out_len - w->out_pos; }
/* Room left in the queue. */
static inline size_t eota_wire_out_free(const eota_wire *w) { return sizeof w->out - eota_wire_out_pending(w); }

/* Lowercase for 'A'..'F' only, so no other byte can pass for a hex digit. */
static inline uint8_t eota_wire_hex_lower(uint8_t c) { return (c >= 'A' && c <= 'F') ? (uint8_t)(c | 0x20) : c; }

/* Start using conn: nothing gathered, nothing queued. */
void eota_wire_open(eota_wire *w, void *conn);
/* Close the connection (once) and drop what was queued. */
void eota_wire_release(eota_wire *w);
/* Queue bytes for the peer: 1, or 0 when they do not fit (callers keep
 * within the room they reserved; the check only guards the invariant). */
int eota_wire_queue(eota_wire *w, const void *data, size_t n);
/* Gather the next field: need bytes (at most EOTA_WIRE_IN_MAX). */
void eota_wire_expect(eota_wire *w, size_t need);
/* Read towards the field. The count read (> 0; the field is complete when
 * in_have == in_need), or what the transport said (EOTA_AGAIN, EOTA_CLOSED,
 * EOTA_EIO, 0). */
long eota_wire_read_field(eota_wire *w);
/* Write what is queued as far as the transport takes it. Returns 1 when
 * some bytes left, else 0; *err is 0, or the transport's negative status
 * when it failed (the queue is then left as it was). */
int eota_wire_flush(eota_wire *w, long *err);
/* Milliseconds left of limit since start, at time t (0 when over). */
long eota_wire_remaining(uint32_t start, uint32_t limit, uint32_t t);
/* Copy a password into dst (cap bytes, the terminator included), clearing
 * the rest. EOTA_OK, or EOTA_EINVAL when it is too long (dst unchanged). */
int eota_wire_set_password(char *dst, size_t cap, const char *password);
/* 1 when password (NULL is "") has at most max bytes; reads no further. */
int eota_wire_password_fits(const char *password, size_t max);
/* Zero n bytes at p through a volatile pointer, so that the compiler keeps
 * the stores even into memory it sees dying (a secret's stack copy). */
void eota_wire_wipe(void *p, size_t n);

#endif
