/*
 * multipart.c: the streaming multipart/form-data parser of the web upload
 * (see multipart.h). A byte-at-a-time state machine, except inside a part,
 * where whole runs up to the next CR are passed on at once.
 */
#include "multipart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"

#define TAG "web_server"

enum mp_state {
    MP_PREAMBLE,   /* before the first delimiter */
    MP_AFTER_DELIM,/* "--" (the end) or CRLF (a part) follows */
    MP_AFTER_DASH,
    MP_AFTER_CR,
    MP_HEADERS,    /* the part's headers, up to the empty line */
    MP_FILE,       /* the image */
    MP_SKIP,       /* another part */
    MP_EPILOGUE    /* after the closing delimiter */
};

/* A parameter value (quoted or not) at p into out; p is past the '='. */
static void param_value(const char *p, const char *stops, char *out, size_t outlen)
{
    size_t n = 0;
    int quoted = *p == '"';
    if (quoted)
        p++;
    for (; *p && (quoted ? *p != '"' : !strchr(stops, *p)); p++) {
        if (quoted && *p == '\\' && p[1])
            p++;
        if (n + 1 < outlen)
            out[n++] = *p;
    }
    out[n] = '\0';
}

/* The boundary parameter of a Content-Type into b (MULTIPART_BOUNDARY_MAX
 * + 1 bytes): 0, or -1 when missing, empty, too long or not closed. */
static int boundary_of(const char *ctype, char *b)
{
    const char *p = ctype + 19; /* past multipart/form-data */
    while (*p) {
        while (*p == ';' || *p == ' ' || *p == '\t')
            p++;
        if (!strncasecmp(p, "boundary=", 9)) {
            p += 9;
            size_t n = *p == '"' ? strcspn(p + 1, "\"") : strcspn(p, "; \t");
            if (n == 0 || n > MULTIPART_BOUNDARY_MAX || (*p == '"' && p[1 + n] != '"'))
                return -1;
            memcpy(b, *p == '"' ? p + 1 : p, n);
            b[n] = '\0';
            return strpbrk(b, "\r\n") ? -1 : 0;
        }
        while (*p && *p != ';')
            p++;
    }
    return -1;
}

int multipart_init(multipart *m, const char *content_type)
{
    char b[MULTIPART_BOUNDARY_MAX + 1];
    memset(m, 0, sizeof *m);
    if (!content_type || strncasecmp(content_type, "multipart/form-data", 19) != 0 ||
        boundary_of(content_type, b) != 0)
        return -1;
    m->dlen = (size_t)snprintf(m->delim, sizeof m->delim, "\r\n--%s", b);
    m->state = MP_PREAMBLE;
    m->match = 2; /* as if a CRLF came before the body: the first boundary may open it */
    return 0;
}

/* A parameter of a Content-Disposition line ("name", "filename") into out.
 * 1 when present. */
static int disposition_param(const char *line, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    for (const char *p = strchr(line, ';'); p; p = strchr(p, ';')) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!strncasecmp(p, key, klen) && (p[klen] == '=' || (p[klen] == '*' && p[klen + 1] == '='))) {
            param_value(p + klen + (p[klen] == '*' ? 2 : 1), ";\r\n", out, outlen);
            return 1;
        }
    }
    return 0;
}

/* The part's headers are complete: is it the file? */
static void part_headers_done(multipart *m)
{
    int is_file = 0;
    char name[64] = "", filename[128] = "";
    m->hdr[m->hdr_len] = '\0';
    for (char *line = m->hdr; line && *line;) {
        char *end = strstr(line, "\r\n");
        if (end)
            *end = '\0';
        if (!strncasecmp(line, "content-disposition:", 20)) {
            disposition_param(line, "name", name, sizeof name);
            is_file = disposition_param(line, "filename", filename, sizeof filename);
        }
        line = end ? end + 2 : NULL;
    }
    if (is_file && !m->file_seen) {
        m->file_seen = 1;
        m->file_start = m->seen;
        snprintf(m->field, sizeof m->field, "%s", name);
        snprintf(m->filename, sizeof m->filename, "%s", filename);
        LOGV(TAG, "Multipart: the image is field '%s', file '%s'", name, filename);
        m->state = MP_FILE;
    } else {
        LOGV(TAG, "Multipart: field '%s' skipped", name);
        m->state = MP_SKIP;
    }
}

static void data_out(multipart *m, const uint8_t *p, size_t n)
{
    if (m->state != MP_FILE || n == 0)
        return;
    memcpy(m->out + m->out_len, p, n);
    m->out_len += n;
    m->file_bytes += n;
}

/* Data of a part (or the preamble): look for the delimiter. The delimiter
 * begins with CR and has no other CR, so after a mismatch the only place a
 * new match can begin is a CR. Returns the bytes consumed: all of them, or
 * up to the end of a delimiter. */
static size_t scan_data(multipart *m, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (m->match == 0) {
            const uint8_t *cr = memchr(p + i, '\r', n - i);
            size_t run = cr ? (size_t)(cr - (p + i)) : n - i;
            data_out(m, p + i, run);
            i += run;
            if (!cr)
                break;
            m->match = 1;
            i++;
            continue;
        }
        if (p[i] == (uint8_t)m->delim[m->match]) {
            i++;
            if (++m->match == m->dlen) {
                m->match = 0;
                m->file_done |= m->state == MP_FILE;
                m->state = MP_AFTER_DELIM;
                return i;
            }
            continue;
        }
        /* mismatch: the held bytes were data after all; look at p[i] again */
        data_out(m, (const uint8_t *)m->delim, m->match);
        m->match = 0;
    }
    return i;
}

/* One byte of a part's headers; the empty line ends them. */
static void header_byte(multipart *m, uint8_t b)
{
    if (m->hdr_len + 1 >= MULTIPART_HEADERS_MAX) {
        m->error = "the headers of a part are too long";
        return;
    }
    m->hdr[m->hdr_len++] = (char)b;
    if ((m->hdr_len == 2 && !memcmp(m->hdr, "\r\n", 2)) ||
        (m->hdr_len >= 4 && !memcmp(m->hdr + m->hdr_len - 4, "\r\n\r\n", 4)))
        part_headers_done(m);
}

/* One byte between a delimiter and what follows it. */
static void framing_byte(multipart *m, uint8_t b)
{
    switch (m->state) {
    case MP_AFTER_DELIM:
        if (b == '-')
            m->state = MP_AFTER_DASH;
        else if (b == '\r')
            m->state = MP_AFTER_CR;
        else if (b != ' ' && b != '\t')
            m->error = "unexpected bytes after a boundary";
        break;
    case MP_AFTER_DASH:
        if (b != '-')
            m->error = "unexpected bytes after a boundary";
        m->closing_seen = 1;
        m->state = MP_EPILOGUE;
        break;
    case MP_AFTER_CR:
        if (b != '\n')
            m->error = "a boundary line does not end in CRLF";
        m->state = MP_HEADERS;
        m->hdr_len = 0;
        break;
    default: header_byte(m, b); break;
    }
}

size_t multipart_reserve(const multipart *m) { return m->dlen; }

size_t multipart_feed(multipart *m, const uint8_t *p, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t i = 0;
    *out_len = 0;
    if (m->error || cap <= m->dlen)
        return 0;
    if (n > cap - m->dlen)
        n = cap - m->dlen; /* what it gives, plus the held delimiter bytes, fits */
    m->out = out;
    m->out_len = 0;
    while (i < n && !m->error) {
        if (m->state == MP_EPILOGUE || m->state == MP_PREAMBLE || m->state == MP_FILE || m->state == MP_SKIP) {
            size_t used = m->state == MP_EPILOGUE ? n - i : scan_data(m, p + i, n - i);
            m->seen += used;
            i += used;
        } else {
            m->seen++; /* counted first: a part's data starts after this byte */
            framing_byte(m, p[i++]);
        }
    }
    m->out = NULL;
    *out_len = m->out_len;
    return i;
}

multipart_end multipart_finish(const multipart *m)
{
    if (!m->file_seen)
        return MULTIPART_NO_FILE;
    if (!m->file_done)
        return MULTIPART_CUT_IN_FILE;
    if (!m->closing_seen)
        return MULTIPART_NO_CLOSING;
    return m->file_bytes == 0 ? MULTIPART_EMPTY_FILE : MULTIPART_COMPLETE;
}

uint64_t multipart_file_bound(const multipart *m, uint64_t body_len)
{
    uint64_t closing = m->dlen + 2; /* CRLF--boundary-- */
    if (!body_len || body_len < m->file_start + closing)
        return 0;
    return body_len - m->file_start - closing;
}
