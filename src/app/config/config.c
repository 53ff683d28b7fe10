/*
 * config.c: reads the ESPHome-shaped YAML configuration (config.h,
 * docs/config.md) with libyaml's document API.
 *
 * Shape of the reader: the whole file is loaded as a node tree (libyaml
 * resolves anchors and aliases by reference, so alias bombs cost nothing),
 * then each block is walked against a small table of accepted keys. The
 * first problem stops everything and is written to the caller's buffer as
 * FILE:LINE:COLUMN: key 'PATH': MESSAGE. Values are quoted in messages only
 * when they cannot be secret: passwords and anything read through !secret
 * show as <hidden>.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "eota/protocol.h"
#include "eota/status.h"

static const char *const level_names[] = {"NONE", "ERROR", "WARN", "INFO",
                                          "DEBUG", "VERBOSE", "VERY_VERBOSE"};

const char *eota_config_level_name(eota_config_level level)
{
    if ((unsigned)level < sizeof level_names / sizeof level_names[0])
        return level_names[level];
    return "?";
}

/* ------------------------------------------------------------------ */
/* Reader context and messages                                         */
/* ------------------------------------------------------------------ */

#define PATH_LEN 192
#define SHOW_LEN 80

typedef struct pending_id {
    const char *id;   /* the action's own copy (alive until the config is freed) */
    yaml_mark_t mark;
    char path[PATH_LEN];
} pending_id;

typedef struct ctx {
    const char *file;
    yaml_document_t *doc;
    eota_config *cfg;
    char *err;
    size_t errlen;
    int status;
    /* secrets.yaml beside the config, read at the first !secret */
    char *secrets_path;
    bool secrets_loaded;
    yaml_document_t secrets;
    /* ota.set_auth_password ids, checked once the ota: list is known */
    pending_id *pending;
    size_t npending;
    /* the first ota: esphome entry, for merge messages */
    int ota_first_index;
    size_t ota_first_line;
    int ota_id_index;
    int ota_pw_index;
    size_t ota_pw_line;
} ctx;

static void set_err(ctx *c, int status, const char *file, const yaml_mark_t *mark,
                    const char *path, const char *msg)
{
    if (c->status)
        return; /* the first problem wins */
    c->status = status;
    if (!c->err || !c->errlen)
        return;
    if (mark && path)
        snprintf(c->err, c->errlen, "%s:%zu:%zu: key '%s': %s", file, mark->line + 1,
                 mark->column + 1, path, msg);
    else if (mark)
        snprintf(c->err, c->errlen, "%s:%zu:%zu: %s", file, mark->line + 1,
                 mark->column + 1, msg);
    else
        snprintf(c->err, c->errlen, "%s: %s", file, msg);
}

__attribute__((format(printf, 6, 7))) static int
failx(ctx *c, int status, const char *file, const yaml_mark_t *mark, const char *path,
      const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    set_err(c, status, file, mark, path, msg);
    return -1;
}

/* The common case: a problem at a node of the config file. */
#define FAIL(c, node, path, ...) \
    failx((c), EOTA_EINVAL, (c)->file, &(node)->start_mark, (path), __VA_ARGS__)

static int oom(ctx *c)
{
    set_err(c, EOTA_EIO, c->file, NULL, NULL, "out of memory");
    return -1;
}

static char *xstrdup(ctx *c, const char *s)
{
    char *d = strdup(s);
    if (!d)
        oom(c);
    return d;
}

/* Append text to a PATH_LEN buffer holding n bytes, truncating; control
 * characters (keys come from the file) become '?'. */
static size_t path_cat(char *buf, size_t n, const char *text)
{
    for (; *text && n + 1 < PATH_LEN; text++)
        buf[n++] = ((unsigned char)*text < 0x20 || *text == 0x7F) ? '?' : *text;
    buf[n] = '\0';
    return n;
}

static const char *pkey(char *buf, const char *parent, const char *key)
{
    size_t n = 0;
    buf[0] = '\0';
    if (parent && *parent) {
        n = path_cat(buf, n, parent);
        n = path_cat(buf, n, ".");
    }
    path_cat(buf, n, key);
    return buf;
}

static const char *pidx(char *buf, const char *parent, size_t i)
{
    char num[32];
    snprintf(num, sizeof num, "[%zu]", i);
    path_cat(buf, path_cat(buf, 0, parent), num);
    return buf;
}

static yaml_node_t *node_at(ctx *c, int idx)
{
    return yaml_document_get_node(c->doc, idx);
}

static const char *ntext(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool tag_is(const yaml_node_t *n, const char *tag)
{
    return n->tag && strcmp((const char *)n->tag, tag) == 0;
}

static bool is_null(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return false;
    if (tag_is(n, YAML_NULL_TAG))
        return true;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !tag_is(n, YAML_STR_TAG))
        return false;
    const char *t = ntext(n);
    return !*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") ||
           !strcmp(t, "NULL");
}

/* "'abc'" (shortened, unprintable bytes as '?') or "<hidden>". */
static const char *show(char *buf, const char *text, bool hidden)
{
    if (hidden) {
        snprintf(buf, SHOW_LEN, "<hidden>");
        return buf;
    }
    size_t n = 0, max = SHOW_LEN - 6;
    buf[n++] = '\'';
    for (const unsigned char *p = (const unsigned char *)text; *p && n < max; p++)
        buf[n++] = (*p >= 0x20 && *p < 0x7F) ? (char)*p : '?';
    if (strlen(text) > max - 1) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n++] = '\'';
    buf[n] = '\0';
    return buf;
}

/* What a node that is not of the wanted kind is, for "got ..." */
static const char *describe(char *buf, const yaml_node_t *n, bool hidden)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (is_null(n))
        return "nothing";
    return show(buf, ntext(n), hidden || tag_is(n, "!secret"));
}

static const char LAMBDA_MSG[] =
    "lambdas are not supported (eota runs no C++ code); to change the OTA "
    "password use the action 'ota.set_auth_password: {id: ..., password: ...}' "
    "instead";

/* Tags: the YAML core ones and !secret (on scalars). */
static int check_tag(ctx *c, yaml_node_t *n, const char *path)
{
    const char *t = (const char *)n->tag;
    if (!t || strncmp(t, "tag:yaml.org,2002:", 18) == 0)
        return 0;
    if (strcmp(t, "!secret") == 0) {
        if (n->type != YAML_SCALAR_NODE)
            return FAIL(c, n, path, "!secret takes a name, not %s",
                        n->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
        return 0;
    }
    if (strcmp(t, "!lambda") == 0)
        return FAIL(c, n, path, "%s", LAMBDA_MSG);
    return FAIL(c, n, path, "the tag '%.40s' is not supported (only !secret is)", t);
}

/* ------------------------------------------------------------------ */
/* YAML files                                                          */
/* ------------------------------------------------------------------ */

/* Line and column of a byte offset, for libyaml's reader errors (bad
 * UTF-8...), which give an offset only. */
static void offset_mark(FILE *f, size_t offset, yaml_mark_t *mark)
{
    mark->line = 0;
    mark->column = 0;
    mark->index = offset;
    if (fseek(f, 0, SEEK_SET) != 0)
        return;
    for (size_t i = 0; i < offset; i++) {
        int ch = getc(f);
        if (ch == EOF)
            break;
        if (ch == '\n') {
            mark->line++;
            mark->column = 0;
        } else if ((ch & 0xC0) != 0x80) {
            mark->column++;
        }
    }
}

static int yaml_failure(ctx *c, yaml_parser_t *p, FILE *f, const char *path)
{
    if (p->error == YAML_MEMORY_ERROR)
        return oom(c);
    if (p->error == YAML_READER_ERROR) {
        yaml_mark_t m;
        offset_mark(f, p->problem_offset, &m);
        return failx(c, EOTA_EINVAL, path, &m, NULL, "cannot read the YAML: %s",
                     p->problem ? p->problem : "input error");
    }
    if (p->context)
        return failx(c, EOTA_EINVAL, path, &p->problem_mark, NULL,
                     "YAML syntax error: %s (%s at line %zu, column %zu)",
                     p->problem ? p->problem : "?", p->context, p->context_mark.line + 1,
                     p->context_mark.column + 1);
    return failx(c, EOTA_EINVAL, path, &p->problem_mark, NULL, "YAML syntax error: %s",
                 p->problem ? p->problem : "?");
}

/* Load exactly one YAML document from path. 0 ok (doc to be deleted by
 * the caller), -1 on failure (nothing to delete). */
static int load_yaml(ctx *c, const char *path, yaml_document_t *doc, const char *what)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return failx(c, EOTA_EIO, path, NULL, NULL, "cannot open the %s: %s", what,
                     strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return failx(c, EOTA_EIO, path, NULL, NULL, "cannot read the %s: it is a directory",
                     what);
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fclose(f);
        return oom(c);
    }
    yaml_parser_set_input_file(&p, f);
    int rc = -1;
    if (!yaml_parser_load(&p, doc)) {
        yaml_failure(c, &p, f, path);
        goto out;
    }
    if (!yaml_document_get_root_node(doc)) {
        yaml_document_delete(doc);
        if (ferror(f))
            failx(c, EOTA_EIO, path, NULL, NULL, "cannot read the %s: %s", what,
                  strerror(errno));
        else
            failx(c, EOTA_EINVAL, path, NULL, NULL,
                  "the %s is empty (expected a YAML mapping)", what);
        goto out;
    }
    yaml_document_t extra;
    if (!yaml_parser_load(&p, &extra)) {
        yaml_failure(c, &p, f, path);
        yaml_document_delete(doc);
        goto out;
    }
    yaml_node_t *xroot = yaml_document_get_root_node(&extra);
    if (xroot) {
        failx(c, EOTA_EINVAL, path, &xroot->start_mark, NULL,
              "a second YAML document ('---'); the %s must hold one", what);
        yaml_document_delete(&extra);
        yaml_document_delete(doc);
        goto out;
    }
    yaml_document_delete(&extra);
    rc = 0;
out:
    yaml_parser_delete(&p);
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Scalars                                                             */
/* ------------------------------------------------------------------ */

/* The value of a !secret node from secrets.yaml beside the config. */
static int resolve_secret(ctx *c, yaml_node_t *n, const char *path, const char **out)
{
    const char *name = ntext(n);
    char sh[SHOW_LEN];
    if (!*name)
        return FAIL(c, n, path, "!secret needs the name of an entry of secrets.yaml");
    if (!c->secrets_loaded) {
        if (!c->secrets_path) {
            const char *slash = strrchr(c->file, '/');
            size_t dirlen = slash ? (size_t)(slash - c->file) + 1 : 0;
            c->secrets_path = malloc(dirlen + sizeof "secrets.yaml");
            if (!c->secrets_path)
                return oom(c);
            memcpy(c->secrets_path, c->file, dirlen);
            memcpy(c->secrets_path + dirlen, "secrets.yaml", sizeof "secrets.yaml");
        }
        FILE *f = fopen(c->secrets_path, "rb");
        if (!f)
            return failx(c, EOTA_EIO, c->file, &n->start_mark, path,
                         "!secret %s: cannot open the secrets file '%s': %s",
                         show(sh, name, false), c->secrets_path, strerror(errno));
        fclose(f);
        if (load_yaml(c, c->secrets_path, &c->secrets, "secrets file") != 0)
            return -1;
        c->secrets_loaded = true;
    }
    yaml_node_t *root = yaml_document_get_root_node(&c->secrets);
    if (root->type != YAML_MAPPING_NODE)
        return failx(c, EOTA_EINVAL, c->secrets_path, &root->start_mark, NULL,
                     "the secrets file must be a mapping of names to values");
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
         pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(&c->secrets, pr->key);
        if (!k || k->type != YAML_SCALAR_NODE || strcmp(ntext(k), name) != 0)
            continue;
        yaml_node_t *v = yaml_document_get_node(&c->secrets, pr->value);
        if (!v || v->type != YAML_SCALAR_NODE || is_null(v))
            return FAIL(c, n, path, "!secret %s: the entry in '%s' must be a plain value",
                        show(sh, name, false), c->secrets_path);
        if (strlen(ntext(v)) != v->data.scalar.length)
            return FAIL(c, n, path, "!secret %s: the value contains a NUL byte",
                        show(sh, name, false));
        *out = ntext(v);
        return 0;
    }
    return FAIL(c, n, path, "!secret %s is not defined in the secrets file '%s'",
                show(sh, name, false), c->secrets_path);
}

/* A scalar's text. want describes the expected value for type errors.
 * *out is NULL for a null value (the caller decides). *hidden is set when
 * the text came through !secret. */
static int scalar(ctx *c, yaml_node_t *n, const char *path, const char *want,
                  const char **out, bool *hidden)
{
    char sh[SHOW_LEN];
    *hidden = false;
    *out = NULL;
    if (check_tag(c, n, path))
        return -1;
    if (n->type != YAML_SCALAR_NODE)
        return FAIL(c, n, path, "expected %s, got %s", want, describe(sh, n, false));
    if (tag_is(n, "!secret")) {
        *hidden = true;
        return resolve_secret(c, n, path, out);
    }
    if (is_null(n))
        return 0;
    if (strlen(ntext(n)) != n->data.scalar.length)
        return FAIL(c, n, path, "the value contains a NUL byte");
    *out = ntext(n);
    return 0;
}

#define STR_SENSITIVE 0x01u /* never show the value */
#define STR_EMPTY_OK 0x02u  /* "" is a value */

/* A string: any non-null scalar (numbers are taken as written). */
static int get_str(ctx *c, yaml_node_t *n, const char *path, unsigned flags, char **dst)
{
    const char *t;
    bool hidden;
    const char *want = (flags & STR_EMPTY_OK) ? "a string" : "a non-empty string";
    if (scalar(c, n, path, want, &t, &hidden))
        return -1;
    if (!t)
        return FAIL(c, n, path, "expected %s, got nothing", want);
    if (!*t && !(flags & STR_EMPTY_OK))
        return FAIL(c, n, path, "expected a non-empty string, got ''");
    char *d = xstrdup(c, t);
    if (!d)
        return -1;
    if (*dst) {
        if (flags & STR_SENSITIVE)
            explicit_bzero(*dst, strlen(*dst));
        free(*dst);
    }
    *dst = d;
    return 0;
}

static int get_bool(ctx *c, yaml_node_t *n, const char *path, bool *dst)
{
    static const char *const yes[] = {"true", "yes", "on", "enable"};
    static const char *const no[] = {"false", "no", "off", "disable"};
    const char *t;
    bool hidden;
    char sh[SHOW_LEN];
    if (scalar(c, n, path, "a boolean (true or false)", &t, &hidden))
        return -1;
    if (t) {
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(t, yes[i]) == 0) {
                *dst = true;
                return 0;
            }
            if (strcasecmp(t, no[i]) == 0) {
                *dst = false;
                return 0;
            }
        }
    }
    return FAIL(c, n, path, "expected a boolean (true or false), got %s",
                t ? show(sh, t, hidden) : "nothing");
}

static int get_int(ctx *c, yaml_node_t *n, const char *path, long long lo, long long hi,
                   long long *dst)
{
    const char *t;
    bool hidden;
    char sh[SHOW_LEN], want[96];
    long long v;
    snprintf(want, sizeof want, "an integer from %lld to %lld", lo, hi);
    if (scalar(c, n, path, want, &t, &hidden))
        return -1;
    if (!t || eota_units_integer(t, &v) != 0 || v < lo || v > hi)
        return FAIL(c, n, path, "expected %s, got %s", want,
                    t ? show(sh, t, hidden) : "nothing");
    *dst = v;
    return 0;
}

static int get_port(ctx *c, yaml_node_t *n, const char *path, uint16_t *dst)
{
    long long v;
    if (get_int(c, n, path, 1, 65535, &v))
        return -1;
    *dst = (uint16_t)v;
    return 0;
}

static int get_duration(ctx *c, yaml_node_t *n, const char *path, bool zero_ok,
                        uint32_t *dst)
{
    const char *t, *why;
    bool hidden;
    char sh[SHOW_LEN];
    const char *want = "a time period such as '30s', '5min' or '100ms'";
    uint32_t v;
    if (scalar(c, n, path, want, &t, &hidden))
        return -1;
    if (!t)
        return FAIL(c, n, path, "expected %s, got nothing", want);
    if (eota_config_parse_duration(t, &v, &why) != 0) {
        if (!hidden && eota_units_integer(t, &(long long){0}) == 0)
            return FAIL(c, n, path, "expected %s, got '%s' (a bare number has no unit; did "
                                    "you mean '%ss'?)",
                        want, t, t);
        return FAIL(c, n, path, "expected %s, got %s (%s)", want, show(sh, t, hidden), why);
    }
    if (v == 0 && !zero_ok)
        return FAIL(c, n, path, "expected a time period longer than 0, got %s",
                    show(sh, t, hidden));
    *dst = v;
    return 0;
}

static int get_size(ctx *c, yaml_node_t *n, const char *path, bool per_second,
                    uint64_t lo, uint64_t hi, uint64_t *dst)
{
    const char *t;
    bool hidden;
    char sh[SHOW_LEN];
    const char *want = per_second
                           ? "a speed in bytes per second such as 300000, '300KB/s' or '1MiB/s'"
                           : "a size in bytes such as 1048576, '0x100000' or '1MiB'";
    uint64_t v;
    if (scalar(c, n, path, want, &t, &hidden))
        return -1;
    if (!t || eota_units_size(t, per_second, &v) != 0)
        return FAIL(c, n, path, "expected %s, got %s", want,
                    t ? show(sh, t, hidden) : "nothing");
    if (v < lo || v > hi)
        return FAIL(c, n, path, "expected a value from %llu to %llu bytes, got %s",
                    (unsigned long long)lo, (unsigned long long)hi, show(sh, t, hidden));
    *dst = v;
    return 0;
}

static int get_level(ctx *c, yaml_node_t *n, const char *path, eota_config_level *dst)
{
    const char *t;
    bool hidden;
    char sh[SHOW_LEN];
    const char *want = "a log level (NONE, ERROR, WARN, INFO, CONFIG, DEBUG, VERBOSE or "
                       "VERY_VERBOSE)";
    if (scalar(c, n, path, want, &t, &hidden))
        return -1;
    if (t) {
        for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
            if (strcasecmp(t, level_names[i]) == 0) {
                *dst = (eota_config_level)i;
                return 0;
            }
        }
        if (strcasecmp(t, "CONFIG") == 0) {
            *dst = EOTA_CONFIG_LEVEL_INFO;
            return 0;
        }
    }
    return FAIL(c, n, path, "expected %s, got %s", want, t ? show(sh, t, hidden) : "nothing");
}

/* One of choices (case-sensitive, as written in docs); index in *dst. */
static int get_choice(ctx *c, yaml_node_t *n, const char *path, const char *const *choices,
                      int *dst)
{
    const char *t;
    bool hidden;
    char sh[SHOW_LEN], want[160];
    size_t len = (size_t)snprintf(want, sizeof want, "one of");
    for (size_t i = 0; choices[i] && len < sizeof want; i++)
        len += (size_t)snprintf(want + len, sizeof want - len, "%s %s", i ? "," : "",
                                choices[i]);
    if (scalar(c, n, path, want, &t, &hidden))
        return -1;
    for (int i = 0; t && choices[i]; i++) {
        if (strcmp(t, choices[i]) == 0) {
            *dst = i;
            return 0;
        }
    }
    return FAIL(c, n, path, "expected %s, got %s", want, t ? show(sh, t, hidden) : "nothing");
}

/* ------------------------------------------------------------------ */
/* Mappings against a table of accepted keys                           */
/* ------------------------------------------------------------------ */

typedef enum kkind {
    K_CUSTOM,   /* handled by the caller */
    K_STR,      /* a non-empty string (numbers as written) */
    K_BOOL,
    K_INT,      /* 0 .. 2^31-1 */
    K_DURATION,
    K_CHOICE,   /* one of spec.choices */
    K_SUB,      /* a mapping checked against spec.sub */
    K_ANY_MAP,  /* a mapping (or nothing), content not checked */
    K_ANY_LIST, /* a list (or nothing), content not checked */
    K_ANY       /* anything, not checked: the blocks we ignore */
} kkind;

typedef struct spec {
    const char *key;
    kkind kind;
    const struct spec *sub;
    const char *const *choices;
    size_t store; /* offsetof(eota_config, field) + 1 for K_STR/K_CHOICE, or 0 */
} spec;

#define KEY(k, kind) {(k), (kind), NULL, NULL, 0}
#define KSUB(k, sub) {(k), K_SUB, (sub), NULL, 0}
#define KSTR_TO(k, field) {(k), K_STR, NULL, NULL, offsetof(eota_config, field) + 1}
#define KCHOICE(k, choices) {(k), K_CHOICE, NULL, (choices), 0}
#define KCHOICE_TO(k, choices, field) \
    {(k), K_CHOICE, NULL, (choices), offsetof(eota_config, field) + 1}
#define KEND {NULL, K_CUSTOM, NULL, NULL, 0}

static const char *key_text(const yaml_node_t *k)
{
    return k->type == YAML_SCALAR_NODE ? ntext(k) : "?";
}

/* Hints for keys that moved in ESPHome's history. */
static const char *moved_hint(const char *parent, const char *key)
{
    if (strncmp(parent, "ota[", 4) == 0 && strchr(parent, '.') == NULL &&
        (!strcmp(key, "safe_mode") || !strcmp(key, "num_attempts") ||
         !strcmp(key, "reboot_timeout")))
        return " (moved to the 'safe_mode:' block in ESPHome 2024.6)";
    return "";
}

static int check_keys(ctx *c, yaml_node_t *map, const char *path, const spec *sp)
{
    char sh[SHOW_LEN], p[PATH_LEN];
    if (check_tag(c, map, path))
        return -1;
    if (is_null(map))
        return 0; /* an empty block: `host:` */
    if (map->type != YAML_MAPPING_NODE)
        return FAIL(c, map, path, "expected a mapping, got %s", describe(sh, map, false));
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
         pr < map->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node_at(c, pr->key);
        if (k->type != YAML_SCALAR_NODE || tag_is(k, "!secret") || !*ntext(k))
            return FAIL(c, k, *path ? path : NULL, "a key must be a plain name, got %s",
                        describe(sh, k, false));
        const char *name = ntext(k);
        pkey(p, path, name);
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pr; q++) {
            yaml_node_t *k2 = node_at(c, q->key);
            if (strcmp(key_text(k2), name) == 0)
                return FAIL(c, k, p, "duplicate key (first given at line %zu)",
                            k2->start_mark.line + 1);
        }
        const spec *s = sp;
        while (s->key && strcmp(s->key, name) != 0)
            s++;
        if (!s->key) {
            char list[512];
            size_t len = 0;
            list[0] = '\0';
            for (const spec *t = sp; t->key && len < sizeof list; t++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                        t == sp ? "" : ", ", t->key);
            return FAIL(c, k, p, "unknown key%s; accepted keys: %s", moved_hint(path, name),
                        list);
        }
    }
    return 0;
}

static yaml_node_t *map_get(ctx *c, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
         pr < map->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node_at(c, pr->key);
        if (k->type == YAML_SCALAR_NODE && strcmp(ntext(k), key) == 0)
            return node_at(c, pr->value);
    }
    return NULL;
}

static yaml_node_t *map_key(ctx *c, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
         pr < map->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node_at(c, pr->key);
        if (k->type == YAML_SCALAR_NODE && strcmp(ntext(k), key) == 0)
            return k;
    }
    return NULL;
}

/* Check the keys, then every key of a simple kind; K_CUSTOM keys are left
 * to the caller. */
static int apply_spec(ctx *c, yaml_node_t *map, const char *path, const spec *sp)
{
    char p[PATH_LEN], sh[SHOW_LEN];
    if (check_keys(c, map, path, sp))
        return -1;
    if (map->type != YAML_MAPPING_NODE)
        return 0;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
         pr < map->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node_at(c, pr->key), *v = node_at(c, pr->value);
        const spec *s = sp;
        while (strcmp(s->key, ntext(k)) != 0)
            s++;
        pkey(p, path, s->key);
        char **dst = s->store ? (char **)((char *)c->cfg + s->store - 1) : NULL;
        char *tmp = NULL;
        bool b;
        long long ll;
        uint32_t ms;
        int idx;
        switch (s->kind) {
        case K_CUSTOM:
            break;
        case K_STR:
            if (get_str(c, v, p, 0, dst ? dst : &tmp))
                return -1;
            free(tmp);
            break;
        case K_BOOL:
            if (get_bool(c, v, p, &b))
                return -1;
            break;
        case K_INT:
            if (get_int(c, v, p, 0, 0x7FFFFFFF, &ll))
                return -1;
            break;
        case K_DURATION:
            if (get_duration(c, v, p, true, &ms))
                return -1;
            break;
        case K_CHOICE:
            if (get_choice(c, v, p, s->choices, &idx))
                return -1;
            if (dst) {
                char *d = xstrdup(c, s->choices[idx]);
                if (!d)
                    return -1;
                free(*dst);
                *dst = d;
            }
            break;
        case K_SUB:
            if (apply_spec(c, v, p, s->sub))
                return -1;
            break;
        case K_ANY_MAP:
            if (check_tag(c, v, p))
                return -1;
            if (v->type != YAML_MAPPING_NODE && !is_null(v))
                return FAIL(c, v, p, "expected a mapping, got %s", describe(sh, v, false));
            break;
        case K_ANY_LIST:
            if (check_tag(c, v, p))
                return -1;
            if (v->type != YAML_SEQUENCE_NODE && !is_null(v))
                return FAIL(c, v, p, "expected a list, got %s", describe(sh, v, false));
            break;
        case K_ANY:
            break;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Automations                                                         */
/* ------------------------------------------------------------------ */

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void free_action(eota_action *a)
{
    free(a->format);
    for (size_t i = 0; i < a->nargs; i++)
        free(a->args[i]);
    free(a->args);
    free(a->tag);
    free(a->command);
    free(a->id);
    wipe_free(a->password);
}

static void free_automation(eota_automation *au)
{
    for (size_t i = 0; i < au->count; i++)
        free_action(&au->actions[i]);
    free(au->actions);
    memset(au, 0, sizeof *au);
}

static eota_action *new_action(ctx *c, eota_automation *au, yaml_node_t *n,
                               eota_action_type type)
{
    eota_action *na = realloc(au->actions, (au->count + 1) * sizeof *na);
    if (!na) {
        oom(c);
        return NULL;
    }
    au->actions = na;
    eota_action *a = &na[au->count++];
    memset(a, 0, sizeof *a);
    a->type = type;
    a->line = (int)n->start_mark.line + 1;
    a->column = (int)n->start_mark.column + 1;
    return a;
}

static const spec log_spec[] = {KEY("format", K_CUSTOM), KEY("args", K_CUSTOM),
                                KEY("level", K_CUSTOM), KEY("tag", K_CUSTOM), KEND};

static int parse_log(ctx *c, yaml_node_t *n, yaml_node_t *at, const char *path,
                     eota_automation *au)
{
    char p[PATH_LEN], p2[PATH_LEN], sh[SHOW_LEN];
    if (check_tag(c, n, path))
        return -1;
    eota_action *a = new_action(c, au, at, EOTA_ACTION_LOGGER_LOG);
    if (!a)
        return -1;
    a->level = EOTA_CONFIG_LEVEL_DEBUG;
    if (!(a->tag = xstrdup(c, "main")))
        return -1;
    if (n->type == YAML_SCALAR_NODE && !is_null(n))
        return get_str(c, n, path, STR_EMPTY_OK, &a->format);
    if (n->type != YAML_MAPPING_NODE)
        return FAIL(c, n, path, "expected a text or a mapping with 'format:', got %s",
                    describe(sh, n, false));
    if (apply_spec(c, n, path, log_spec))
        return -1;
    yaml_node_t *v = map_get(c, n, "format");
    pkey(p, path, "format");
    if (!v)
        return FAIL(c, n, p, "required key missing");
    if (get_str(c, v, p, STR_EMPTY_OK, &a->format))
        return -1;
    if ((v = map_get(c, n, "level")) && get_level(c, v, pkey(p, path, "level"), &a->level))
        return -1;
    if ((v = map_get(c, n, "tag")) && get_str(c, v, pkey(p, path, "tag"), 0, &a->tag))
        return -1;
    if ((v = map_get(c, n, "args"))) {
        pkey(p, path, "args");
        if (check_tag(c, v, p))
            return -1;
        if (v->type != YAML_SEQUENCE_NODE)
            return FAIL(c, v, p, "expected a list of expressions such as [x], got %s",
                        describe(sh, v, false));
        size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
        if (cnt) {
            a->args = calloc(cnt, sizeof *a->args);
            if (!a->args)
                return oom(c);
        }
        for (size_t i = 0; i < cnt; i++) {
            yaml_node_t *it = node_at(c, v->data.sequence.items.start[i]);
            if (get_str(c, it, pidx(p2, p, i), 0, &a->args[i]))
                return -1;
            a->nargs++;
        }
    }
    return 0;
}

static const spec shell_spec[] = {KEY("command", K_CUSTOM), KEY("timeout", K_CUSTOM), KEND};

static int parse_shell(ctx *c, yaml_node_t *n, yaml_node_t *at, const char *path,
                       eota_automation *au)
{
    char p[PATH_LEN], sh[SHOW_LEN];
    if (check_tag(c, n, path))
        return -1;
    eota_action *a = new_action(c, au, at, EOTA_ACTION_SHELL);
    if (!a)
        return -1;
    a->timeout_ms = 60000;
    if (n->type == YAML_SCALAR_NODE && !is_null(n))
        return get_str(c, n, path, 0, &a->command);
    if (n->type != YAML_MAPPING_NODE)
        return FAIL(c, n, path, "expected a command or a mapping with 'command:', got %s",
                    describe(sh, n, false));
    if (apply_spec(c, n, path, shell_spec))
        return -1;
    yaml_node_t *v = map_get(c, n, "command");
    pkey(p, path, "command");
    if (!v)
        return FAIL(c, n, p, "required key missing");
    if (get_str(c, v, p, 0, &a->command))
        return -1;
    if ((v = map_get(c, n, "timeout")) &&
        get_duration(c, v, pkey(p, path, "timeout"), false, &a->timeout_ms))
        return -1;
    return 0;
}

static const spec setpw_spec[] = {KEY("id", K_CUSTOM), KEY("password", K_CUSTOM), KEND};

static int parse_setpw(ctx *c, yaml_node_t *n, yaml_node_t *at, const char *path,
                       eota_automation *au)
{
    char p[PATH_LEN], sh[SHOW_LEN];
    if (check_tag(c, n, path))
        return -1;
    if (n->type != YAML_MAPPING_NODE)
        return FAIL(c, n, path, "expected a mapping with 'id:' and 'password:', got %s",
                    describe(sh, n, false));
    eota_action *a = new_action(c, au, at, EOTA_ACTION_SET_AUTH_PASSWORD);
    if (!a)
        return -1;
    if (apply_spec(c, n, path, setpw_spec))
        return -1;
    yaml_node_t *v = map_get(c, n, "id");
    pkey(p, path, "id");
    if (!v)
        return FAIL(c, n, p, "required key missing");
    if (get_str(c, v, p, 0, &a->id))
        return -1;
    pending_id *np = realloc(c->pending, (c->npending + 1) * sizeof *np);
    if (!np)
        return oom(c);
    c->pending = np;
    np[c->npending].id = a->id; /* the value, even when it came from !secret */
    np[c->npending].mark = v->start_mark;
    snprintf(np[c->npending].path, PATH_LEN, "%s", p);
    c->npending++;
    v = map_get(c, n, "password");
    pkey(p, path, "password");
    if (!v)
        return FAIL(c, n, p, "required key missing");
    return get_str(c, v, pkey(p, path, "password"), STR_SENSITIVE | STR_EMPTY_OK,
                   &a->password);
}

static int parse_action(ctx *c, yaml_node_t *n, const char *path, eota_automation *au)
{
    char p[PATH_LEN], sh[SHOW_LEN];
    if (check_tag(c, n, path))
        return -1;
    if (n->type != YAML_MAPPING_NODE)
        return FAIL(c, n, path, "expected an action (such as 'logger.log: \"text\"'), got %s",
                    describe(sh, n, false));
    yaml_node_pair_t *pr = n->data.mapping.pairs.start;
    size_t cnt = (size_t)(n->data.mapping.pairs.top - pr);
    if (cnt == 0)
        return FAIL(c, n, path, "expected an action, got an empty mapping");
    yaml_node_t *k = node_at(c, pr[0].key), *v = node_at(c, pr[0].value);
    if (k->type != YAML_SCALAR_NODE)
        return FAIL(c, k, path, "an action's name must be a plain name, got %s",
                    describe(sh, k, false));
    const char *name = ntext(k);
    pkey(p, path, name);
    if (strcmp(name, "lambda") == 0)
        return FAIL(c, k, p, "%s", LAMBDA_MSG);
    if (cnt > 1) {
        yaml_node_t *k2 = node_at(c, pr[1].key);
        return FAIL(c, k2, pkey(p, path, key_text(k2)),
                    "an action is a mapping with one key ('%s' is already the action here); "
                    "start each action with '-'",
                    name);
    }
    if (strcmp(name, "logger.log") == 0)
        return parse_log(c, v, n, p, au);
    if (strcmp(name, "shell") == 0)
        return parse_shell(c, v, n, p, au);
    if (strcmp(name, "ota.set_auth_password") == 0)
        return parse_setpw(c, v, n, p, au);
    return FAIL(c, k, p, "unknown action; supported actions: logger.log, shell, "
                         "ota.set_auth_password");
}

static const spec trigger_spec[] = {KEY("then", K_CUSTOM), KEY("trigger_id", K_STR),
                                    KEY("automation_id", K_STR), KEND};
static const spec boot_trigger_spec[] = {KEY("then", K_CUSTOM), KEY("priority", K_CUSTOM),
                                         KEY("trigger_id", K_STR),
                                         KEY("automation_id", K_STR), KEND};

static int parse_actions(ctx *c, yaml_node_t *n, const char *path, eota_automation *au);

/* An automation written out: {then: ..., priority: ...} */
static int parse_trigger(ctx *c, yaml_node_t *n, const char *path, eota_automation *au,
                         bool boot)
{
    char p[PATH_LEN], sh[SHOW_LEN];
    if (apply_spec(c, n, path, boot ? boot_trigger_spec : trigger_spec))
        return -1;
    yaml_node_t *v = map_get(c, n, "priority");
    if (v) {
        const char *t;
        bool hidden;
        char *end = NULL;
        pkey(p, path, "priority");
        if (scalar(c, v, p, "a number", &t, &hidden))
            return -1;
        double d = t ? strtod(t, &end) : 0;
        if (!t || !*t || *end)
            return FAIL(c, v, p, "expected a number, got %s",
                        t ? show(sh, t, hidden) : "nothing");
        if (!au->has_priority) {
            au->has_priority = true;
            au->priority = d;
        }
    }
    return parse_actions(c, map_get(c, n, "then"), pkey(p, path, "then"), au);
}

/* then: a list of actions or one action */
static int parse_actions(ctx *c, yaml_node_t *n, const char *path, eota_automation *au)
{
    char p[PATH_LEN], sh[SHOW_LEN];
    if (!n)
        return 0;
    if (check_tag(c, n, path))
        return -1;
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             it < n->data.sequence.items.top; it++)
            if (parse_action(c, node_at(c, *it),
                             pidx(p, path, (size_t)(it - n->data.sequence.items.start)), au))
                return -1;
        return 0;
    }
    if (n->type == YAML_MAPPING_NODE)
        return parse_action(c, n, path, au);
    return FAIL(c, n, path, "expected an action or a list of actions, got %s",
                describe(sh, n, false));
}

/* A trigger's value, in any of ESPHome's forms: one action, a list of
 * actions, {then: ...}, or a list of {then: ...}. */
static int parse_automation(ctx *c, yaml_node_t *n, const char *path, eota_automation *au,
                            bool boot)
{
    char p[PATH_LEN], sh[SHOW_LEN];
    if (check_tag(c, n, path))
        return -1;
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             it < n->data.sequence.items.top; it++) {
            yaml_node_t *item = node_at(c, *it);
            pidx(p, path, (size_t)(it - n->data.sequence.items.start));
            int rc = map_key(c, item, "then") ? parse_trigger(c, item, p, au, boot)
                                              : parse_action(c, item, p, au);
            if (rc)
                return -1;
        }
        return 0;
    }
    if (n->type == YAML_MAPPING_NODE)
        return map_key(c, n, "then") ? parse_trigger(c, n, path, au, boot)
                                     : parse_action(c, n, path, au);
    return FAIL(c, n, path, "expected an action or a list of actions, got %s",
                describe(sh, n, false));
}

/* Move src's actions to the end of dst. */
static int append_automation(ctx *c, eota_automation *dst, eota_automation *src)
{
    if (!src->count)
        return 0;
    eota_action *na = realloc(dst->actions, (dst->count + src->count) * sizeof *na);
    if (!na)
        return oom(c);
    memcpy(na + dst->count, src->actions, src->count * sizeof *na);
    dst->actions = na;
    dst->count += src->count;
    free(src->actions);
    src->actions = NULL;
    src->count = 0;
    return 0;
}

/* ------------------------------------------------------------------ */
/* esphome: and the platform blocks                                    */
/* ------------------------------------------------------------------ */

static const spec project_spec[] = {KEY("name", K_STR), KEY("version", K_STR), KEND};
static const spec esphome_spec[] = {
    KEY("name", K_CUSTOM),
    KSTR_TO("friendly_name", friendly_name),
    KSTR_TO("comment", comment),
    KEY("area", K_ANY),
    KEY("min_version", K_STR),
    KEY("name_add_mac_suffix", K_BOOL),
    KSUB("project", project_spec),
    KEY("build_path", K_STR),
    KEY("platformio_options", K_ANY_MAP),
    KEY("on_boot", K_CUSTOM),
    KEND};

static int parse_esphome(ctx *c, yaml_node_t *n)
{
    char p[PATH_LEN], sh[SHOW_LEN];
    if (apply_spec(c, n, "esphome", esphome_spec))
        return -1;
    if (is_null(n))
        return FAIL(c, n, "esphome", "expected a mapping with 'name:', got nothing");
    yaml_node_t *v = map_get(c, n, "name");
    if (!v)
        return FAIL(c, n, "esphome.name", "required key missing");
    if (get_str(c, v, "esphome.name", 0, &c->cfg->name))
        return -1;
    /* ESPHome names become host names */
    size_t len = strlen(c->cfg->name);
    bool ok = len <= 63;
    for (const char *s = c->cfg->name; *s && ok; s++)
        ok = (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_';
    if (!ok)
        return FAIL(c, v, "esphome.name",
                    "expected a name of at most 63 lowercase letters, digits, '-' and '_', "
                    "got %s",
                    show(sh, c->cfg->name, false));
    if ((v = map_get(c, n, "on_boot")) &&
        parse_automation(c, v, pkey(p, "esphome", "on_boot"), &c->cfg->on_boot, true))
        return -1;
    return 0;
}

static const char *const esp32_fw_types[] = {"arduino", "esp-idf", "esp_idf", NULL};
static const char *const flash_modes[] = {"qio", "qout", "dio", "dout", NULL};

static const spec esp32_fw_spec[] = {
    KCHOICE_TO("type", esp32_fw_types, framework_type),
    KSTR_TO("version", framework_version),
    KEY("source", K_STR),
    KEY("platform_version", K_STR),
    KEY("release", K_STR),
    KEY("log_level", K_STR),
    KEY("sdkconfig_options", K_ANY_MAP),
    KEY("advanced", K_ANY_MAP),
    KEY("components", K_ANY_LIST),
    KEND};
static const spec fw_spec[] = {KSTR_TO("version", framework_version), KEY("source", K_STR),
                               KEY("platform_version", K_STR), KEND};
static const spec lt_fw_spec[] = {
    KSTR_TO("version", framework_version),
    KEY("source", K_STR),
    KEY("loglevel", K_STR),
    KEY("debug", K_ANY),
    KEY("sdk_silent", K_ANY),
    KEY("uart_port", K_INT),
    KEY("gpio_recover", K_BOOL),
    KEY("auto_download_reboot", K_BOOL),
    KEY("options", K_ANY_MAP),
    KEND};

static const spec esp32_spec[] = {
    KSTR_TO("board", board),
    KSTR_TO("variant", variant),
    KSTR_TO("flash_size", flash_size),
    KEY("cpu_frequency", K_STR),
    KEY("partitions", K_STR),
    KSUB("framework", esp32_fw_spec),
    KEND};
static const spec esp8266_spec[] = {
    KSTR_TO("board", board),
    KSUB("framework", fw_spec),
    KEY("restore_from_flash", K_BOOL),
    KEY("early_pin_init", K_BOOL),
    KCHOICE("board_flash_mode", flash_modes),
    KEY("enable_serial", K_BOOL),
    KEY("enable_serial1", K_BOOL),
    KEND};
static const spec rp2040_spec[] = {
    KSTR_TO("board", board),
    KSTR_TO("flash_size", flash_size),
    KSUB("framework", fw_spec),
    KEY("watchdog_timeout", K_DURATION),
    KEND};
static const spec libretiny_spec[] = {
    KSTR_TO("board", board),
    KEY("family", K_STR),
    KSUB("framework", lt_fw_spec),
    KEND};
static const spec host_spec[] = {KEY("mac_address", K_STR), KEND};

static const spec *platform_spec(const char *name)
{
    if (!strcmp(name, "esp32"))
        return esp32_spec;
    if (!strcmp(name, "esp8266"))
        return esp8266_spec;
    if (!strcmp(name, "rp2040"))
        return rp2040_spec;
    if (!strcmp(name, "host"))
        return host_spec;
    return libretiny_spec;
}

/* ------------------------------------------------------------------ */
/* ota:                                                                */
/* ------------------------------------------------------------------ */

static const spec ota_esphome_spec[] = {
    KEY("platform", K_CUSTOM),       KEY("password", K_CUSTOM),
    KEY("port", K_CUSTOM),           KEY("id", K_CUSTOM),
    KEY("version", K_CUSTOM),        KEY("allow_md5_auth", K_CUSTOM),
    KEY("on_begin", K_CUSTOM),       KEY("on_progress", K_CUSTOM),
    KEY("on_end", K_CUSTOM),         KEY("on_abort", K_CUSTOM),
    KEY("on_error", K_CUSTOM),       KEY("on_state_change", K_CUSTOM),
    KEND};
static const spec ota_web_spec[] = {KEY("platform", K_CUSTOM), KEND};

static const char *const ota_triggers[] = {"on_begin", "on_progress", "on_end",
                                           "on_abort", "on_error",    "on_state_change"};

static eota_automation *ota_trigger(eota_ota_config *o, size_t i)
{
    eota_automation *t[] = {&o->on_begin, &o->on_progress, &o->on_end,
                            &o->on_abort, &o->on_error,    &o->on_state_change};
    return t[i];
}

static void free_ota(eota_ota_config *o)
{
    free(o->id);
    wipe_free(o->password);
    for (size_t i = 0; i < 6; i++)
        free_automation(ota_trigger(o, i));
    memset(o, 0, sizeof *o);
}

static int parse_ota_esphome(ctx *c, yaml_node_t *n, size_t index, const char *path)
{
    char p[PATH_LEN];
    eota_config *cfg = c->cfg;
    eota_ota_config e;
    memset(&e, 0, sizeof e);
    e.port = cfg->profile->port;
    e.version = 2;
    e.line = (int)n->start_mark.line + 1;
    e.column = (int)n->start_mark.column + 1;
    int rc = -1;
    long long ll;
    yaml_node_t *v, *port_n = NULL, *ver_n = NULL, *md5_n = NULL, *pw_n = NULL, *id_n = NULL;

    if (apply_spec(c, n, path, ota_esphome_spec))
        goto out;
    if ((pw_n = map_get(c, n, "password"))) {
        if (get_str(c, pw_n, pkey(p, path, "password"), STR_SENSITIVE | STR_EMPTY_OK,
                    &e.password))
            goto out;
        e.has_password = true;
    }
    if ((port_n = map_get(c, n, "port")) && get_port(c, port_n, pkey(p, path, "port"), &e.port))
        goto out;
    if ((id_n = map_get(c, n, "id")) && get_str(c, id_n, pkey(p, path, "id"), 0, &e.id))
        goto out;
    if ((ver_n = map_get(c, n, "version"))) {
        if (get_int(c, ver_n, pkey(p, path, "version"), 1, 2, &ll))
            goto out;
        e.version = (uint8_t)ll;
    }
    if ((md5_n = map_get(c, n, "allow_md5_auth")) &&
        get_bool(c, md5_n, pkey(p, path, "allow_md5_auth"), &e.allow_md5_auth))
        goto out;
    for (size_t i = 0; i < 6; i++)
        if ((v = map_get(c, n, ota_triggers[i])) &&
            parse_automation(c, v, pkey(p, path, ota_triggers[i]), ota_trigger(&e, i), false))
            goto out;

    eota_ota_config *m = &cfg->ota;
    if (!m->present) {
        *m = e;
        m->present = true;
        memset(&e, 0, sizeof e);
        c->ota_first_index = (int)index;
        c->ota_first_line = n->start_mark.line + 1;
        c->ota_id_index = (int)index;
        c->ota_pw_index = (int)index;
        c->ota_pw_line = pw_n ? pw_n->start_mark.line + 1 : 0;
        rc = 0;
        goto out;
    }
    /* Merge, as ESPHome merges entries on one port. ESPHome would run a
     * second server on another port; eota serves one. */
    if (e.port != m->port) {
        FAIL(c, port_n ? port_n : n, pkey(p, path, "port"),
             "port %u differs from port %u of ota[%d] at line %zu: every 'platform: esphome' "
             "entry must use the same port",
             e.port, m->port, c->ota_first_index, c->ota_first_line);
        goto out;
    }
    if (e.version != m->version) {
        FAIL(c, ver_n ? ver_n : n, pkey(p, path, "version"),
             "version %u differs from version %u of ota[%d] at line %zu: merged entries must "
             "agree",
             e.version, m->version, c->ota_first_index, c->ota_first_line);
        goto out;
    }
    if (e.allow_md5_auth != m->allow_md5_auth) {
        FAIL(c, md5_n ? md5_n : n, pkey(p, path, "allow_md5_auth"),
             "differs from ota[%d] at line %zu: merged entries must agree",
             c->ota_first_index, c->ota_first_line);
        goto out;
    }
    if (e.id) {
        if (m->id) {
            FAIL(c, id_n, pkey(p, path, "id"),
                 "ota[%d] on the same port already has the id '%s': merged entries may "
                 "have one id",
                 c->ota_id_index, m->id);
            goto out;
        }
        m->id = e.id;
        e.id = NULL;
        c->ota_id_index = (int)index;
    }
    if (e.has_password) {
        if (m->has_password && strcmp(m->password, e.password) != 0) {
            FAIL(c, pw_n, pkey(p, path, "password"),
                 "differs from the password of ota[%d] at line %zu: merged entries must "
                 "agree",
                 c->ota_pw_index, c->ota_pw_line);
            goto out;
        }
        if (!m->has_password) {
            m->password = e.password;
            e.password = NULL;
            m->has_password = true;
            c->ota_pw_index = (int)index;
            c->ota_pw_line = pw_n->start_mark.line + 1;
        }
    }
    for (size_t i = 0; i < 6; i++)
        if (append_automation(c, ota_trigger(m, i), ota_trigger(&e, i)))
            goto out;
    rc = 0;
out:
    free_ota(&e);
    return rc;
}

static int parse_ota(ctx *c, yaml_node_t *n)
{
    char p[PATH_LEN], p2[PATH_LEN], sh[SHOW_LEN];
    static const char *const platforms[] = {"esphome", "web_server", NULL};
    if (check_tag(c, n, "ota"))
        return -1;
    if (n->type == YAML_MAPPING_NODE)
        return FAIL(c, n, "ota",
                    "expected a list of entries such as '- platform: esphome' (the form "
                    "without a list was removed in ESPHome 2024.6)");
    if (n->type != YAML_SEQUENCE_NODE)
        return FAIL(c, n, "ota", "expected a list of entries such as '- platform: esphome', "
                                 "got %s",
                    describe(sh, n, false));
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        size_t i = (size_t)(it - n->data.sequence.items.start);
        yaml_node_t *e = node_at(c, *it);
        pidx(p, "ota", i);
        if (check_tag(c, e, p))
            return -1;
        if (e->type != YAML_MAPPING_NODE)
            return FAIL(c, e, p, "expected a mapping with 'platform:', got %s",
                        describe(sh, e, false));
        yaml_node_t *pl = map_get(c, e, "platform");
        if (!pl)
            return FAIL(c, e, pkey(p2, p, "platform"), "required key missing");
        int which;
        if (get_choice(c, pl, pkey(p2, p, "platform"), platforms, &which))
            return -1;
        if (which == 0) {
            if (parse_ota_esphome(c, e, i, p))
                return -1;
        } else {
            if (apply_spec(c, e, p, ota_web_spec))
                return -1;
            if (!c->cfg->ota_web_server) {
                c->cfg->ota_web_server = true;
                c->cfg->ota_web_server_line = (int)e->start_mark.line + 1;
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* safe_mode:, app:, simulate:, logger:, web_server:                   */
/* ------------------------------------------------------------------ */

static const spec safe_mode_spec[] = {
    KEY("num_attempts", K_CUSTOM),       KEY("reboot_timeout", K_CUSTOM),
    KEY("boot_is_good_after", K_CUSTOM), KEY("disabled", K_CUSTOM),
    KEY("id", K_CUSTOM),                 KEY("on_safe_mode", K_CUSTOM),
    KEND};

static int parse_safe_mode(ctx *c, yaml_node_t *n)
{
    eota_config_safe_mode *s = &c->cfg->safe_mode;
    yaml_node_t *v;
    long long ll;
    s->present = true;
    if (apply_spec(c, n, "safe_mode", safe_mode_spec))
        return -1;
    if ((v = map_get(c, n, "num_attempts"))) {
        /* ESPHome keeps the count in a uint8_t */
        if (get_int(c, v, "safe_mode.num_attempts", 1, 255, &ll))
            return -1;
        s->num_attempts = (uint32_t)ll;
    }
    if ((v = map_get(c, n, "reboot_timeout")) &&
        get_duration(c, v, "safe_mode.reboot_timeout", true, &s->reboot_timeout_ms))
        return -1;
    if ((v = map_get(c, n, "boot_is_good_after")) &&
        get_duration(c, v, "safe_mode.boot_is_good_after", true, &s->boot_is_good_after_ms))
        return -1;
    if ((v = map_get(c, n, "disabled")) && get_bool(c, v, "safe_mode.disabled", &s->disabled))
        return -1;
    if ((v = map_get(c, n, "id")) && get_str(c, v, "safe_mode.id", 0, &s->id))
        return -1;
    if ((v = map_get(c, n, "on_safe_mode")) &&
        parse_automation(c, v, "safe_mode.on_safe_mode", &s->on_safe_mode, false))
        return -1;
    return 0;
}

static const spec app_spec[] = {KEY("command", K_CUSTOM), KEY("stop_timeout", K_CUSTOM),
                                KEY("env", K_CUSTOM), KEND};

static int parse_app(ctx *c, yaml_node_t *n)
{
    eota_app_config *a = &c->cfg->app;
    char p[PATH_LEN], sh[SHOW_LEN];
    yaml_node_t *v;
    a->present = true;
    if (apply_spec(c, n, "app", app_spec))
        return -1;
    v = map_get(c, n, "command");
    if (!v)
        return FAIL(c, n, "app.command", "required key missing");
    if (check_tag(c, v, "app.command"))
        return -1;
    if (v->type != YAML_SEQUENCE_NODE ||
        v->data.sequence.items.top == v->data.sequence.items.start)
        return FAIL(c, v, "app.command",
                    "expected a non-empty list of strings such as [\"/usr/bin/myapp\", "
                    "\"{image}\"] (one string is not split: give each argument as a list "
                    "item), got %s",
                    v->type == YAML_SEQUENCE_NODE ? "an empty list" : describe(sh, v, false));
    size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    a->argv = calloc(cnt + 1, sizeof *a->argv);
    if (!a->argv)
        return oom(c);
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *it = node_at(c, v->data.sequence.items.start[i]);
        /* arguments may be empty, the program may not */
        if (get_str(c, it, pidx(p, "app.command", i), i ? STR_EMPTY_OK : 0, &a->argv[i]))
            return -1;
        a->argc++;
    }
    if ((v = map_get(c, n, "stop_timeout")) &&
        get_duration(c, v, "app.stop_timeout", true, &a->stop_timeout_ms))
        return -1;
    if ((v = map_get(c, n, "env"))) {
        if (check_tag(c, v, "app.env"))
            return -1;
        if (is_null(v))
            return 0;
        if (v->type != YAML_MAPPING_NODE)
            return FAIL(c, v, "app.env", "expected a mapping of NAME: value, got %s",
                        describe(sh, v, false));
        /* keys checked by hand: any valid variable name is accepted */
        cnt = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
        a->env = calloc(cnt + 1, sizeof *a->env);
        if (!a->env)
            return oom(c);
        for (size_t i = 0; i < cnt; i++) {
            yaml_node_pair_t *pr = &v->data.mapping.pairs.start[i];
            yaml_node_t *k = node_at(c, pr->key), *val = node_at(c, pr->value);
            const char *name = key_text(k);
            bool ok = k->type == YAML_SCALAR_NODE && !tag_is(k, "!secret") && *name &&
                      !(*name >= '0' && *name <= '9');
            for (const char *s = name; ok && *s; s++)
                ok = (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                     (*s >= '0' && *s <= '9') || *s == '_';
            if (!ok)
                return FAIL(c, k, "app.env",
                            "expected an environment variable name (letters, digits, '_'), "
                            "got %s",
                            describe(sh, k, false));
            pkey(p, "app.env", name);
            for (size_t j = 0; j < i; j++) {
                yaml_node_t *k2 = node_at(c, v->data.mapping.pairs.start[j].key);
                if (strcmp(key_text(k2), name) == 0)
                    return FAIL(c, k, p, "duplicate key (first given at line %zu)",
                                k2->start_mark.line + 1);
            }
            char *value = NULL;
            if (get_str(c, val, p, STR_EMPTY_OK, &value))
                return -1;
            size_t len = strlen(name) + 1 + strlen(value) + 1;
            a->env[i] = malloc(len);
            if (!a->env[i]) {
                free(value);
                return oom(c);
            }
            snprintf(a->env[i], len, "%s=%s", name, value);
            free(value);
            a->nenv++;
        }
    }
    return 0;
}

static const spec simulate_spec[] = {
    KEY("flash_write_speed", K_CUSTOM), KEY("fail_at", K_CUSTOM),
    KEY("fail_code", K_CUSTOM),         KEY("fail_after_bytes", K_CUSTOM),
    KEY("slot_size", K_CUSTOM),         KEND};

static int parse_simulate(ctx *c, yaml_node_t *n)
{
    static const char *const stages[] = {"prepare", "write", "end", NULL};
    static const uint8_t default_codes[] = {0, EOTA_RESP_ERROR_UPDATE_PREPARE,
                                            EOTA_RESP_ERROR_WRITING_FLASH,
                                            EOTA_RESP_ERROR_UPDATE_END};
    eota_simulate_config *s = &c->cfg->simulate;
    yaml_node_t *v;
    uint64_t u;
    long long ll;
    int idx;
    s->present = true;
    if (apply_spec(c, n, "simulate", simulate_spec))
        return -1;
    if ((v = map_get(c, n, "flash_write_speed"))) {
        if (get_size(c, v, "simulate.flash_write_speed", true, 0, UINT64_MAX / 1000, &u))
            return -1;
        s->flash_write_speed = u;
    }
    if ((v = map_get(c, n, "slot_size"))) {
        if (get_size(c, v, "simulate.slot_size", false, 1, UINT32_MAX, &u))
            return -1;
        s->slot_size = (uint32_t)u;
    }
    if ((v = map_get(c, n, "fail_at"))) {
        if (get_choice(c, v, "simulate.fail_at", stages, &idx))
            return -1;
        s->fail_at = (eota_sim_fail_at)(idx + 1);
        s->fail_code = default_codes[idx + 1];
    }
    if ((v = map_get(c, n, "fail_code"))) {
        if (get_int(c, v, "simulate.fail_code", 0x80, 0xFF, &ll))
            return -1;
        if (s->fail_at == EOTA_SIM_FAIL_NONE)
            return FAIL(c, v, "simulate.fail_code",
                        "needs 'fail_at:' (prepare, write or end) in the same block");
        s->fail_code = (uint8_t)ll;
    }
    if ((v = map_get(c, n, "fail_after_bytes"))) {
        if (get_int(c, v, "simulate.fail_after_bytes", 0, UINT32_MAX, &ll))
            return -1;
        if (s->fail_at != EOTA_SIM_FAIL_WRITE)
            return FAIL(c, v, "simulate.fail_after_bytes", "needs 'fail_at: write'");
        s->fail_after_bytes = (uint32_t)ll;
        s->has_fail_after_bytes = true;
    }
    return 0;
}

static const spec logger_spec[] = {KEY("level", K_CUSTOM), KEY("baud_rate", K_INT),
                                   KEY("logs", K_CUSTOM), KEY("hardware_uart", K_STR), KEND};

static int parse_logger(ctx *c, yaml_node_t *n)
{
    char p[PATH_LEN], sh[SHOW_LEN];
    yaml_node_t *v;
    eota_config_level lv;
    if (apply_spec(c, n, "logger", logger_spec))
        return -1;
    if ((v = map_get(c, n, "level")) && get_level(c, v, "logger.level", &c->cfg->log_level))
        return -1;
    if ((v = map_get(c, n, "logs"))) {
        /* per-tag levels: checked, not used (eota's tags differ) */
        if (check_tag(c, v, "logger.logs"))
            return -1;
        if (is_null(v))
            return 0;
        if (v->type != YAML_MAPPING_NODE)
            return FAIL(c, v, "logger.logs", "expected a mapping of tag: level, got %s",
                        describe(sh, v, false));
        for (yaml_node_pair_t *pr = v->data.mapping.pairs.start;
             pr < v->data.mapping.pairs.top; pr++)
            if (get_level(c, node_at(c, pr->value),
                          pkey(p, "logger.logs", key_text(node_at(c, pr->key))), &lv))
                return -1;
    }
    return 0;
}

static const spec web_auth_spec[] = {KEY("username", K_CUSTOM), KEY("password", K_CUSTOM),
                                     KEY("type", K_CUSTOM), KEND};
static const spec web_server_spec[] = {KEY("port", K_CUSTOM),    KEY("auth", K_CUSTOM),
                                       KEY("version", K_CUSTOM), KEY("local", K_BOOL),
                                       KEY("log", K_BOOL),       KEY("include_internal", K_BOOL),
                                       KEND};

static int parse_web_server(ctx *c, yaml_node_t *n)
{
    static const char *const types[] = {"basic", "digest", NULL};
    eota_web_server_config *w = &c->cfg->web_server;
    yaml_node_t *v, *a;
    long long ll;
    int idx;
    w->present = true;
    if (apply_spec(c, n, "web_server", web_server_spec))
        return -1;
    if ((v = map_get(c, n, "port")))
        w->has_port = true;
    if (v && get_port(c, v, "web_server.port", &w->port))
        return -1;
    if ((v = map_get(c, n, "version")) && get_int(c, v, "web_server.version", 1, 3, &ll))
        return -1;
    if ((a = map_get(c, n, "auth"))) {
        if (apply_spec(c, a, "web_server.auth", web_auth_spec))
            return -1;
        if (is_null(a))
            return FAIL(c, a, "web_server.auth",
                        "expected a mapping with 'username:' and 'password:', got nothing");
        w->has_auth = true;
        if (!(v = map_get(c, a, "username")))
            return FAIL(c, a, "web_server.auth.username", "required key missing");
        if (get_str(c, v, "web_server.auth.username", 0, &w->username))
            return -1;
        if (!(v = map_get(c, a, "password")))
            return FAIL(c, a, "web_server.auth.password", "required key missing");
        if (get_str(c, v, "web_server.auth.password", STR_SENSITIVE, &w->password))
            return -1;
        if ((v = map_get(c, a, "type"))) {
            if (get_choice(c, v, "web_server.auth.type", types, &idx))
                return -1;
            w->auth_type = (eota_web_auth_type)idx;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The file                                                            */
/* ------------------------------------------------------------------ */

/* wifi:, api:, captive_portal: and network: appear in nearly every real
 * ESPHome config; they mean nothing to eota (the host's network is used),
 * so they are accepted and not looked into. Other ESPHome blocks are
 * errors: silently ignoring, say, a `sensor:` would hide a mistake. */
static const spec top_spec[] = {
    KEY("esphome", K_CUSTOM),    KEY("host", K_CUSTOM),     KEY("esp32", K_CUSTOM),
    KEY("esp8266", K_CUSTOM),    KEY("rp2040", K_CUSTOM),   KEY("bk72xx", K_CUSTOM),
    KEY("rtl87xx", K_CUSTOM),    KEY("ln882x", K_CUSTOM),   KEY("ota", K_CUSTOM),
    KEY("safe_mode", K_CUSTOM),  KEY("app", K_CUSTOM),      KEY("simulate", K_CUSTOM),
    KEY("logger", K_CUSTOM),     KEY("web_server", K_CUSTOM), KEY("wifi", K_ANY),
    KEY("api", K_ANY),           KEY("captive_portal", K_ANY), KEY("network", K_ANY),
    KEND};

static int parse_root(ctx *c, yaml_node_t *root)
{
    eota_config *cfg = c->cfg;
    char sh[SHOW_LEN];
    yaml_node_t *v, *pk = NULL;
    if (root->type != YAML_MAPPING_NODE)
        return failx(c, EOTA_EINVAL, c->file, &root->start_mark, NULL,
                     "the top level must be a mapping of blocks (esphome:, ota:, ...), got %s",
                     describe(sh, root, false));
    if (apply_spec(c, root, "", top_spec))
        return -1;

    /* the platform block first: it gives the default port */
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
         pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node_at(c, pr->key);
        const eota_profile *prof = eota_profile_find(ntext(k));
        if (!prof)
            continue;
        if (cfg->profile)
            return FAIL(c, k, ntext(k),
                        "only one platform block is allowed; '%s' is already given at line "
                        "%zu",
                        cfg->profile->platform, pk->start_mark.line + 1);
        cfg->profile = prof;
        pk = k;
        cfg->platform_line = (int)k->start_mark.line + 1;
        if (apply_spec(c, node_at(c, pr->value), prof->platform, platform_spec(prof->platform)))
            return -1;
    }
    if (!cfg->profile)
        return failx(c, EOTA_EINVAL, c->file, &root->start_mark, NULL,
                     "no platform block: add one of host:, esp32:, esp8266:, rp2040:, "
                     "bk72xx:, rtl87xx:, ln882x:");
    cfg->ota.port = cfg->profile->port;

    if (!(v = map_get(c, root, "esphome")))
        return failx(c, EOTA_EINVAL, c->file, &root->start_mark, NULL,
                     "the 'esphome:' block (with 'name:') is missing");
    if (parse_esphome(c, v))
        return -1;
    if ((v = map_get(c, root, "ota")) && parse_ota(c, v))
        return -1;
    if ((v = map_get(c, root, "safe_mode")) && parse_safe_mode(c, v))
        return -1;
    if ((v = map_get(c, root, "app")) && parse_app(c, v))
        return -1;
    if ((v = map_get(c, root, "simulate")) && parse_simulate(c, v))
        return -1;
    if ((v = map_get(c, root, "logger")) && parse_logger(c, v))
        return -1;
    if ((v = map_get(c, root, "web_server")) && parse_web_server(c, v))
        return -1;

    for (size_t i = 0; i < c->npending; i++) {
        pending_id *pi = &c->pending[i];
        if (!cfg->ota.id || strcmp(cfg->ota.id, pi->id) != 0)
            return failx(c, EOTA_EINVAL, c->file, &pi->mark, pi->path,
                         "no 'ota:' entry with 'platform: esphome' has the id %s",
                         show(sh, pi->id, false));
    }
    cfg->slot_size = cfg->simulate.slot_size ? cfg->simulate.slot_size : cfg->profile->slot_size;
    if (!cfg->web_server.has_port)
        cfg->web_server.port = cfg->profile->default_web_port;
    return 0;
}

static void set_defaults(eota_config *cfg)
{
    cfg->ota.version = 2;
    cfg->safe_mode.num_attempts = 10;
    cfg->safe_mode.reboot_timeout_ms = 5u * 60u * 1000u;
    cfg->safe_mode.boot_is_good_after_ms = 60u * 1000u;
    cfg->app.stop_timeout_ms = 5000;
    cfg->log_level = EOTA_CONFIG_LEVEL_DEBUG;
    cfg->web_server.port = 80;
}

int eota_config_load(const char *path, eota_config *out, char *err, size_t errlen)
{
    ctx c;
    yaml_document_t doc;
    memset(&c, 0, sizeof c);
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return EOTA_EINVAL;
    memset(out, 0, sizeof *out);
    c.file = path ? path : "(null)";
    c.err = err;
    c.errlen = errlen;
    c.cfg = out;
    c.doc = &doc;
    if (!path || !*path) {
        set_err(&c, EOTA_EINVAL, "eota", NULL, NULL, "no configuration file given");
        return c.status;
    }
    set_defaults(out);
    if (!(out->path = xstrdup(&c, path)))
        return c.status;
    if (load_yaml(&c, path, &doc, "configuration file") == 0) {
        parse_root(&c, yaml_document_get_root_node(&doc));
        yaml_document_delete(&doc);
    }
    if (c.secrets_loaded)
        yaml_document_delete(&c.secrets);
    free(c.secrets_path);
    free(c.pending);
    if (c.status) {
        eota_config_free(out);
        return c.status;
    }
    return EOTA_OK;
}

void eota_config_free(eota_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg->name);
    free(cfg->friendly_name);
    free(cfg->comment);
    free_automation(&cfg->on_boot);
    free(cfg->board);
    free(cfg->variant);
    free(cfg->flash_size);
    free(cfg->framework_type);
    free(cfg->framework_version);
    free_ota(&cfg->ota);
    free(cfg->safe_mode.id);
    free_automation(&cfg->safe_mode.on_safe_mode);
    for (size_t i = 0; i < cfg->app.argc; i++)
        free(cfg->app.argv[i]);
    free(cfg->app.argv);
    for (size_t i = 0; i < cfg->app.nenv; i++)
        wipe_free(cfg->app.env[i]); /* may hold tokens */
    free(cfg->app.env);
    free(cfg->web_server.username);
    wipe_free(cfg->web_server.password);
    memset(cfg, 0, sizeof *cfg);
}

int eota_config_reload_password(const char *path, const char *ota_id, char **password_out,
                                char *err, size_t errlen)
{
    eota_config cfg;
    if (!password_out)
        return EOTA_EINVAL;
    *password_out = NULL;
    int rc = eota_config_load(path, &cfg, err, errlen);
    if (rc != EOTA_OK)
        return rc;
    if (ota_id && (!cfg.ota.present || !cfg.ota.id || strcmp(cfg.ota.id, ota_id) != 0)) {
        if (err && errlen)
            snprintf(err, errlen, "%s: no 'ota:' entry with 'platform: esphome' has the id '%s'",
                     path, ota_id);
        eota_config_free(&cfg);
        return EOTA_EINVAL;
    }
    if (cfg.ota.has_password) {
        *password_out = cfg.ota.password; /* handed over, wiped by the caller */
        cfg.ota.password = NULL;
    }
    eota_config_free(&cfg);
    return EOTA_OK;
}

void eota_config_secret_free(char *secret)
{
    wipe_free(secret);
}
