/*
 * native_words.c: the sentences of a native upload: what was installed,
 * and why an attempt failed, with the device's response code in words
 * (eota_response_describe) or the network step that went wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "upload/transport_native.h"
#include "upload/util.h"

const char *up_nat_auth_name(eota_auth_kind a)
{
    return a == EOTA_AUTH_SHA256 ? "sha256" : a == EOTA_AUTH_MD5 ? "md5" : "none";
}

const char *up_nat_auth_words(eota_auth_kind a)
{
    return a == EOTA_AUTH_SHA256 ? "SHA-256 password" : a == EOTA_AUTH_MD5 ? "legacy MD5 password" : "no password";
}

void up_nat_describe_ok(const up_run *r, const up_job *j, char *out, size_t outlen)
{
    const up_nat_job *n = up_nat_of(j);
    const up_addr *a = up_job_addr(j);
    eota_client_report rep;
    eota_client_get_report(&n->cl, &rep);
    char sent[32], raw[32];
    up_human_bytes(sent, sizeof sent, rep.sent);
    up_human_bytes(raw, sizeof raw, r->img.size);
    size_t k = (size_t)snprintf(out, outlen, "installed: %s", sent);
    if (rep.gzip_sent && k < outlen)
        k += (size_t)snprintf(out + k, outlen - k, " (gzip of %s)", raw);
    if (k < outlen)
        k += (size_t)snprintf(out + k, outlen - k, " in %.1f s, protocol %u, %s, %s", up_job_seconds(j),
                              rep.version, rep.encrypted ? "encrypted (Noise)" : up_nat_auth_words(rep.auth),
                              a ? a->show : "?");
    if (r->nkeys && !rep.encrypted && k < outlen)
        k += (size_t)snprintf(out + k, outlen - k, ", in plaintext: the device does not offer encryption");
    if (rep.encrypted && j->key_i > 0 && k < outlen)
        k += (size_t)snprintf(out + k, outlen - k,
                              "; encrypted with --previous-key #%zu (the device still had the old key)", j->key_i);
    if (j->pw_i > 0 && k < outlen)
        snprintf(out + k, outlen - k,
                 "; authenticated with --previous-password #%zu (the device still had the old password)", j->pw_i);
}

/* A 44, 45 or 47 out of order in the data phase: what arrived, against
 * what the image calls for, so that nobody takes it for an install. */
static int describe_out_of_order(const up_nat_job *n, char *out, size_t outlen)
{
    eota_client_report rep;
    eota_client_get_report(&n->cl, &rep);
    if (n->phase < EOTA_CLIENT_PH_DATA || rep.size == 0 ||
        (n->code != EOTA_RESP_RECEIVE_OK && n->code != EOTA_RESP_UPDATE_END_OK && n->code != EOTA_RESP_CHUNK_OK))
        return 0;
    uint32_t due = (rep.size + EOTA_BLOCK_SIZE - 1) / EOTA_BLOCK_SIZE;
    uint32_t got = (rep.acked + EOTA_BLOCK_SIZE - 1) / EOTA_BLOCK_SIZE;
    char sent[32], size[32];
    up_human_bytes(sent, sizeof sent, rep.sent);
    up_human_bytes(size, sizeof size, rep.size);
    const char *what = n->code == EOTA_RESP_CHUNK_OK ? "0x47 CHUNK_OK (an acknowledgement for a block not sent yet)"
                       : n->code == EOTA_RESP_RECEIVE_OK ? "0x44 RECEIVE_OK (the whole image received)"
                                                         : "0x45 UPDATE_END_OK (installed) without 0x44 before it";
    char acks[96] = "";
    if (rep.version >= EOTA_VERSION_2)
        snprintf(acks, sizeof acks, " after %u of the %u block acknowledgements (0x47) the image calls for,", got,
                 due);
    snprintf(out, outlen,
             "the device sent an unexpected byte %s%s with %s of %s sent: it cannot have received the image, so nothing counts as "
             "installed",
             what, acks, sent, size);
    return 1;
}

/* The Noise session did not come about, or broke. */
static void describe_noise(const up_run *r, const up_job *j, char *out, size_t outlen)
{
    const up_nat_job *n = up_nat_of(j);
    eota_client_report rep;
    eota_client_get_report(&n->cl, &rep);
    switch (j->res.err) {
    case EOTA_CLIENT_ERR_NOISE_KEY:
        snprintf(out, outlen,
                 "the device rejected the encryption key (\"%s\"): is the encryption key right? (it came from "
                 "%s%s; if the device still has an older key, add it with --previous-key)",
                 rep.reason, r->key_from, r->nkeys > 1 ? ", and every --previous-key was tried" : "");
        return;
    case EOTA_CLIENT_ERR_NOISE_UNOFFERED:
        snprintf(out, outlen,
                 "the device does not offer encryption (it has no api: or ota: encryption key, or its firmware "
                 "predates ESPHome 2026.9), and the key from %s forbids plaintext: nothing was sent. To install "
                 "a firmware that brings the key, run once with --allow-plaintext",
                 r->key_from);
        return;
    default:
        if (rep.reason[0])
            snprintf(out, outlen, "the device refused the encrypted session during %s: \"%s\"",
                     eota_client_phase_describe(n->phase), rep.reason);
        else
            snprintf(out, outlen,
                     "the encrypted session broke during %s: a frame from the device did not decrypt or was "
                     "malformed (tampered with, or not an ESPHome Noise peer)",
                     eota_client_phase_describe(n->phase));
        return;
    }
}

/* The device answered, with a byte we did not want. */
static void describe_answer(const up_run *r, const up_job *j, char *out, size_t outlen)
{
    const up_nat_job *n = up_nat_of(j);
    const char *where = eota_client_phase_describe(n->phase);
    switch (j->res.err) {
    case EOTA_CLIENT_ERR_DEVICE: {
        const char *name = eota_response_name(n->code);
        size_t k = (size_t)snprintf(out, outlen, "the device answered 0x%02X %s during %s: %s", n->code,
                                    name ? name : "(unknown code)", where, eota_response_describe(n->code));
        if (n->code == EOTA_RESP_ERROR_AUTH_INVALID && r->npasswords > 1 && k < outlen)
            snprintf(out + k, outlen - k, " (tried %zu password%s)", j->pw_i + 1, j->pw_i ? "s" : "");
        else if (k < outlen)
            up_signature_hint(n->code, out + k, outlen - k);
        if (n->code == EOTA_RESP_ERROR_ENCRYPTION_REQUIRED && !r->nkeys && k < outlen)
            snprintf(out + k, outlen - k,
                     "; give its encryption key with --key-file F, the variable EOTA_KEY or the config's "
                     "encryption: key");
        return;
    }
    case EOTA_CLIENT_ERR_PROTOCOL:
        if (describe_out_of_order(n, out, outlen))
            return;
        snprintf(out, outlen,
                 "the device sent an unexpected byte 0x%02X during %s (is this an ESPHome native OTA port?)",
                 n->code, where);
        return;
    case EOTA_CLIENT_ERR_VERSION:
        snprintf(out, outlen, "the device speaks OTA protocol version %u; eota upload knows versions 1 and 2",
                 n->code);
        return;
    default:
        snprintf(out, outlen,
                 "the device asks for a password (%s challenge) and none was given: use --password, "
                 "--password-file, EOTA_PASSWORD or the config's ota: password",
                 n->code == EOTA_RESP_REQUEST_AUTH ? "MD5" : "SHA-256");
        return;
    }
}

/* The network failed us: which step, and errno in words. */
static void describe_network(const up_run *r, const up_job *j, char *out, size_t outlen)
{
    const up_nat_job *n = up_nat_of(j);
    const char *where = eota_client_phase_describe(n->phase);
    const up_addr *a = up_job_addr(j);
    const char *show = a ? a->show : "?";
    int e = j->res.sys_err;
    switch (j->res.err) {
    case EOTA_CLIENT_ERR_CLOSED:
        snprintf(out, outlen, "the device closed the connection without answering during %s%s", where,
                 e == ECONNRESET ? " (connection reset)" : "");
        return;
    case EOTA_CLIENT_ERR_TIMEOUT:
        if (n->phase == EOTA_CLIENT_PH_CONNECT)
            snprintf(out, outlen, "timed out connecting to %s (no answer in %.0f s)", show,
                     r->opt.handshake_ms / 1000.0);
        else
            snprintf(out, outlen, "timed out during %s: the device said nothing for %.0f s", where,
                     (n->phase >= EOTA_CLIENT_PH_DATA ? r->opt.data_ms : r->opt.handshake_ms) / 1000.0);
        return;
    case EOTA_CLIENT_ERR_IO:
        snprintf(out, outlen, "network error during %s: %s", where, e ? strerror(e) : "connection failed");
        return;
    case EOTA_CLIENT_ERR_REFUSED:
        snprintf(out, outlen, "connection refused by %s (is the device on, and is %u its OTA port?)", show,
                 a ? a->port : 0);
        return;
    default:
        snprintf(out, outlen, "cannot reach %s: %s", show, e ? strerror(e) : "unreachable");
        return;
    }
}

void up_nat_describe_failure(const up_run *r, const up_job *j, char *out, size_t outlen)
{
    switch (j->res.err) {
    case EOTA_CLIENT_ERR_DEVICE:
    case EOTA_CLIENT_ERR_PROTOCOL:
    case EOTA_CLIENT_ERR_VERSION:
    case EOTA_CLIENT_ERR_PASSWORD_REQUIRED: describe_answer(r, j, out, outlen); return;
    case EOTA_CLIENT_ERR_CLOSED:
    case EOTA_CLIENT_ERR_TIMEOUT:
    case EOTA_CLIENT_ERR_IO:
    case EOTA_CLIENT_ERR_REFUSED:
    case EOTA_CLIENT_ERR_UNREACHABLE: describe_network(r, j, out, outlen); return;
    case EOTA_CLIENT_ERR_NOISE_KEY:
    case EOTA_CLIENT_ERR_NOISE_UNOFFERED:
    case EOTA_CLIENT_ERR_NOISE: describe_noise(r, j, out, outlen); return;
    case EOTA_CLIENT_ERR_IMAGE: snprintf(out, outlen, "could not read the image"); return;
    case EOTA_CLIENT_ERR_CRYPTO: snprintf(out, outlen, "the hash or random source failed"); return;
    case EOTA_CLIENT_ERR_CANCELLED: snprintf(out, outlen, "cancelled"); return;
    case EOTA_CLIENT_ERR_RESOLVE: snprintf(out, outlen, "%s", j->resolve_msg); return;
    case EOTA_CLIENT_OK: snprintf(out, outlen, "ok"); return;
    }
}

void up_signature_hint(uint8_t code, char *out, size_t outlen)
{
    if (code == EOTA_RESP_ERROR_SIGNATURE_INVALID)
        snprintf(out, outlen, "; sign it with a key whose .pub is in the device's ota: signature: keys "
                              "(eota sign --key NAME.key --version V FIRMWARE -o SIGNED), and send it unaltered");
    else if (code == EOTA_RESP_ERROR_VERSION_DOWNGRADE)
        snprintf(out, outlen, "; its security counter or version is lower than the running image's: sign a "
                              "newer version (eota sign --version, --counter not lower), or set "
                              "allow_downgrade: true on the device for a lower version");
    else if (outlen)
        out[0] = '\0';
}
