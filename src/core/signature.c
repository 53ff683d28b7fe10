/*
 * signature.c: the signed-image trailer (eota/signature.h,
 * docs/signed-images.md): the footer, the two MCUboot TLV areas, the
 * trusted keys and the check of the signatures through the verify seam.
 * Reads only the bytes it is given; no allocation.
 */
#include "eota/signature.h"

#include <string.h>

#include "text.h"

#if EOTA_WITH_SIGNATURE

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* One TLV entry off the front of an area. */
typedef struct tlv_cursor {
    const uint8_t *p;
    size_t left;
    uint16_t type, len;
    const uint8_t *val;
} tlv_cursor;

/* 1 with the next entry in c, 0 at the end, -1 when an entry overruns. */
static int tlv_next(tlv_cursor *c)
{
    if (c->left == 0)
        return 0;
    if (c->left < 4)
        return -1;
    c->type = rd16(c->p);
    c->len = rd16(c->p + 2);
    if ((size_t)c->len > c->left - 4)
        return -1;
    c->val = c->p + 4;
    c->p += 4u + c->len;
    c->left -= 4u + c->len;
    return 1;
}

static int printable(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return 1;
}

enum { SEEN_CNT = 1, SEEN_VER = 2, SEEN_CHIP = 4, SEEN_LEN = 8, SEEN_SHA = 16 };

/* A field may appear once, with its length. 0 ok, -1 not. */
static int field_once(unsigned *seen, unsigned bit, int len_ok)
{
    if ((*seen & bit) || !len_ok)
        return -1;
    *seen |= bit;
    return 0;
}

static int protected_field(const tlv_cursor *c, unsigned *seen, eota_sig_info *out)
{
    switch (c->type) {
    case EOTA_SIG_TLV_SEC_CNT:
        out->counter = c->len == 4 ? rd32(c->val) : 0;
        return field_once(seen, SEEN_CNT, c->len == 4);
    case EOTA_SIG_TLV_PAYLOAD_LEN:
        out->payload_len = c->len == 4 ? rd32(c->val) : 0;
        return field_once(seen, SEEN_LEN, c->len == 4);
    case EOTA_SIG_TLV_VERSION:
        out->version = (const char *)c->val;
        out->version_len = (uint8_t)c->len;
        return field_once(seen, SEEN_VER,
                          c->len >= 1 && c->len <= EOTA_SIG_VERSION_MAX && printable(c->val, c->len));
    case EOTA_SIG_TLV_CHIP:
        out->chip = (const char *)c->val;
        out->chip_len = (uint8_t)c->len;
        return field_once(seen, SEEN_CHIP, c->len <= EOTA_SIG_CHIP_MAX && printable(c->val, c->len));
    default: return 0; /* another tool's field: covered by the digest, not read */
    }
}

static const char *parse_protected(const uint8_t *p, size_t n, eota_sig_info *out)
{
    tlv_cursor c = {p, n, 0, 0, NULL};
    unsigned seen = 0;
    int r;
    while ((r = tlv_next(&c)) == 1)
        if (protected_field(&c, &seen, out) != 0)
            return EOTA_LOG_TEXT("a protected field is repeated or has a bad length or value");
    if (r < 0)
        return EOTA_LOG_TEXT("a protected TLV entry runs past its area");
    if ((seen & (SEEN_CNT | SEEN_VER | SEEN_LEN)) != (SEEN_CNT | SEEN_VER | SEEN_LEN))
        return EOTA_LOG_TEXT("the security counter, version or payload length is missing");
    return NULL;
}

/* A key hash entry, then its signature entry right after it. */
static const char *signature_pair(tlv_cursor *c, eota_sig_info *out)
{
    const uint8_t *kh = c->val;
    if (c->len != EOTA_SHA256_LEN || out->nsigs >= EOTA_SIG_MAX_SIGS)
        return EOTA_LOG_TEXT("a bad key hash, or more than 3 signatures");
    if (tlv_next(c) != 1 || c->type != EOTA_SIG_TLV_ED25519 || c->len != EOTA_ED25519_SIG_LEN)
        return EOTA_LOG_TEXT("a key hash is not followed by its Ed25519 signature");
    out->keyhash[out->nsigs] = kh;
    out->sig[out->nsigs++] = c->val;
    return NULL;
}

static const char *parse_unprotected(const uint8_t *p, size_t n, eota_sig_info *out)
{
    tlv_cursor c = {p, n, 0, 0, NULL};
    unsigned seen = 0;
    const char *why = NULL;
    int r;
    while (!why && (r = tlv_next(&c)) == 1) {
        if (c.type == EOTA_SIG_TLV_KEYHASH)
            why = signature_pair(&c, out);
        else if (c.type == EOTA_SIG_TLV_ED25519)
            why = EOTA_LOG_TEXT("an Ed25519 signature without its key hash");
        else if (c.type == EOTA_SIG_TLV_SHA256 && field_once(&seen, SEEN_SHA, c.len == EOTA_SHA256_LEN) == 0)
            out->sha256 = c.val;
        else if (c.type == EOTA_SIG_TLV_SHA256)
            why = EOTA_LOG_TEXT("the SHA256 entry is repeated or has a bad length");
    }
    if (why)
        return why;
    if (r < 0)
        return EOTA_LOG_TEXT("an unprotected TLV entry runs past its area");
    if (!out->sha256 || out->nsigs == 0)
        return EOTA_LOG_TEXT("the SHA256 entry or every signature is missing");
    return NULL;
}

int eota_sig_present(const uint8_t *tail, size_t len)
{
    return len >= EOTA_SIG_FOOTER_LEN && memcmp(tail + len - 8, EOTA_SIG_MAGIC, 8) == 0;
}

/* The two areas, areas bytes that end where the footer begins. */
static const char *parse_areas(const uint8_t *p, uint32_t areas, eota_sig_info *out)
{
    if (areas < 4 || rd16(p) != EOTA_SIG_PROT_INFO_MAGIC)
        return EOTA_LOG_TEXT("no protected TLV area where the footer says the trailer begins");
    uint32_t plen = rd16(p + 2);
    if (plen < 4 || plen > areas - 4)
        return EOTA_LOG_TEXT("the protected TLV area's length is out of the trailer");
    out->protected_area = p;
    out->protected_len = plen;
    const char *why = parse_protected(p + 4, plen - 4, out);
    if (why)
        return why;
    const uint8_t *q = p + plen;
    if (rd16(q) != EOTA_SIG_INFO_MAGIC || rd16(q + 2) != areas - plen)
        return EOTA_LOG_TEXT("the unprotected TLV area does not end at the footer");
    return parse_unprotected(q + 4, areas - plen - 4, out);
}

int eota_sig_parse(const uint8_t *tail, size_t len, eota_sig_info *out, const char **why)
{
    memset(out, 0, sizeof *out);
    *why = EOTA_LOG_TEXT("the image has no signature trailer");
    if (!eota_sig_present(tail, len))
        return EOTA_EFORMAT;
    const uint8_t *f = tail + len - EOTA_SIG_FOOTER_LEN;
    uint32_t areas = rd32(f);
    *why = EOTA_LOG_TEXT("the trailer is longer than the image or than a trailer may be");
    if (areas > len - EOTA_SIG_FOOTER_LEN || areas > EOTA_SIG_TRAILER_MAX - EOTA_SIG_FOOTER_LEN)
        return EOTA_EFORMAT;
    *why = parse_areas(f - areas, areas, out);
    if (!*why && out->payload_len != rd32(f + 4))
        *why = EOTA_LOG_TEXT("the footer's payload length differs from the protected one");
    if (*why) {
        memset(out, 0, sizeof *out);
        return EOTA_EFORMAT;
    }
    out->trailer_len = areas + EOTA_SIG_FOOTER_LEN;
    return EOTA_OK;
}

/* The encodings of the points of small order (libsodium's blocklist, the
 * sign bit left out): a signature "verifies" against them too easily. */
static const uint8_t small_order[][EOTA_ED25519_PUBKEY_LEN] = {
    {0},
    {1},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
};

/* p-1, p and p+1 as y (orders 2, 4, 1): 0xec/0xed/0xee, 0xff..., 0x7f. */
static int is_p_neighbour(const uint8_t *k)
{
    if (k[0] < 0xec || k[0] > 0xee || (k[31] & 0x7f) != 0x7f)
        return 0;
    for (int i = 1; i < 31; i++)
        if (k[i] != 0xff)
            return 0;
    return 1;
}

int eota_sig_key_init(eota_sig_key *k, const uint8_t pub[EOTA_ED25519_PUBKEY_LEN], const eota_hash *hash)
{
    for (size_t i = 0; i < sizeof small_order / sizeof small_order[0]; i++)
        if (memcmp(pub, small_order[i], 31) == 0 && (pub[31] & 0x7f) == small_order[i][31])
            return EOTA_EINVAL;
    if (is_p_neighbour(pub))
        return EOTA_EINVAL;
    memcpy(k->pub, pub, EOTA_ED25519_PUBKEY_LEN);
    if (!hash->ops || hash->ops->begin(hash->ctx, EOTA_HASH_SHA256) != EOTA_OK)
        return EOTA_ECRYPTO;
    hash->ops->update(hash->ctx, pub, EOTA_ED25519_PUBKEY_LEN);
    return hash->ops->finish(hash->ctx, k->hash) == EOTA_OK ? EOTA_OK : EOTA_ECRYPTO;
}

int eota_sig_check(const eota_sig_info *info, const uint8_t digest[EOTA_SHA256_LEN], const eota_sig_key *keys,
                   size_t nkeys, const eota_verify *verify)
{
    int failed = EOTA_ESIGNATURE;
    for (size_t s = 0; s < info->nsigs; s++)
        for (size_t k = 0; k < nkeys; k++) {
            if (memcmp(info->keyhash[s], keys[k].hash, EOTA_SHA256_LEN) != 0)
                continue;
            int r = verify->ops->ed25519(verify->ctx, keys[k].pub, digest, EOTA_SHA256_LEN, info->sig[s]);
            if (r == EOTA_OK)
                return EOTA_OK;
            if (r == EOTA_ECRYPTO)
                failed = EOTA_ECRYPTO;
        }
    return failed;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* The number at a[*i] (leading zeros skipped): its digits' start and count. */
static size_t digit_run(const char *a, size_t alen, size_t *i, size_t *start)
{
    while (*i < alen && a[*i] == '0' && *i + 1 < alen && is_digit(a[*i + 1]))
        (*i)++;
    *start = *i;
    while (*i < alen && is_digit(a[*i]))
        (*i)++;
    return *i - *start;
}

int eota_sig_version_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i = 0, j = 0;
    while (i < alen && j < blen) {
        if (is_digit(a[i]) && is_digit(b[j])) {
            size_t as, bs, an = digit_run(a, alen, &i, &as), bn = digit_run(b, blen, &j, &bs);
            if (an != bn)
                return an < bn ? -1 : 1;
            int c = memcmp(a + as, b + bs, an);
            if (c)
                return c;
            continue;
        }
        if (a[i] != b[j])
            return (unsigned char)a[i] < (unsigned char)b[j] ? -1 : 1;
        i++, j++;
    }
    return (i < alen) - (j < blen);
}

#endif /* EOTA_WITH_SIGNATURE */
