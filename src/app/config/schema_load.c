/*
 * schema_load.c: YAML files for the schema engine (schema.h): one document
 * per file, libyaml's errors as FILE:LINE:COLUMN messages, and the values
 * of `!secret NAME` from secrets.yaml beside the config. A config holds
 * passwords and keys: every buffer that held the file's text is wiped
 * before it is freed (stdio's, libyaml's raw and decoded input, the
 * documents' scalars); the values the config keeps are its one copy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema.h"

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

static int yaml_failure(schema_ctx *c, yaml_parser_t *p, FILE *f, const char *path)
{
    if (p->error == YAML_MEMORY_ERROR)
        return schema_oom(c);
    if (p->error == YAML_READER_ERROR) {
        yaml_mark_t m;
        offset_mark(f, p->problem_offset, &m);
        return schema_failx(c, EOTA_EINVAL, path, &m, NULL, "cannot read the YAML: %s",
                            p->problem ? p->problem : "input error");
    }
    if (p->context)
        return schema_failx(c, EOTA_EINVAL, path, &p->problem_mark, NULL,
                            "YAML syntax error: %s (%s at line %zu, column %zu)",
                            p->problem ? p->problem : "?", p->context,
                            p->context_mark.line + 1, p->context_mark.column + 1);
    return schema_failx(c, EOTA_EINVAL, path, &p->problem_mark, NULL,
                        "YAML syntax error: %s", p->problem ? p->problem : "?");
}

/* The first document into doc, and nothing after it. */
static int load_one(schema_ctx *c, yaml_parser_t *p, FILE *f, const char *path,
                    yaml_document_t *doc, const char *what)
{
    if (!yaml_parser_load(p, doc))
        return yaml_failure(c, p, f, path);
    if (!yaml_document_get_root_node(doc)) {
        schema_doc_delete(doc);
        if (ferror(f))
            return schema_failx(c, EOTA_EIO, path, NULL, NULL, "cannot read the %s: %s", what,
                                strerror(errno));
        return schema_failx(c, EOTA_EINVAL, path, NULL, NULL,
                            "the %s is empty (expected a YAML mapping)", what);
    }
    yaml_document_t extra;
    if (!yaml_parser_load(p, &extra)) {
        yaml_failure(c, p, f, path);
        schema_doc_delete(doc);
        return -1;
    }
    yaml_node_t *xroot = yaml_document_get_root_node(&extra);
    if (xroot) {
        schema_failx(c, EOTA_EINVAL, path, &xroot->start_mark, NULL,
                     "a second YAML document ('---'); the %s must hold one", what);
        schema_doc_delete(doc);
    }
    schema_doc_delete(&extra);
    return xroot ? -1 : 0;
}

int schema_load(schema_ctx *c, const char *path, yaml_document_t *doc, const char *what)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return schema_failx(c, EOTA_EIO, path, NULL, NULL, "cannot open the %s: %s", what,
                            strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return schema_failx(c, EOTA_EIO, path, NULL, NULL,
                            "cannot read the %s: it is a directory", what);
    }
    char iobuf[BUFSIZ]; /* stdio's buffer: ours, so that it can be wiped */
    setvbuf(f, iobuf, _IOFBF, sizeof iobuf);
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fclose(f);
        return schema_oom(c);
    }
    yaml_parser_set_input_file(&p, f);
    int rc = load_one(c, &p, f, path, doc, what);
    /* the text read and decoded (public fields of yaml_parser_t) */
    explicit_bzero(p.raw_buffer.start, (size_t)(p.raw_buffer.end - p.raw_buffer.start));
    explicit_bzero(p.buffer.start, (size_t)(p.buffer.end - p.buffer.start));
    yaml_parser_delete(&p);
    fclose(f);
    explicit_bzero(iobuf, sizeof iobuf);
    return rc;
}

void schema_doc_delete(yaml_document_t *doc)
{
    for (yaml_node_t *n = doc->nodes.start; n && n < doc->nodes.top; n++)
        if (n->type == YAML_SCALAR_NODE && n->data.scalar.value)
            explicit_bzero(n->data.scalar.value, n->data.scalar.length);
    yaml_document_delete(doc);
}

void schema_release(schema_ctx *c)
{
    if (c->secrets_loaded)
        schema_doc_delete(&c->secrets);
    c->secrets_loaded = false;
    free(c->secrets_path);
    c->secrets_path = NULL;
    free(c->shared);
    c->shared = NULL;
    c->shared_doc = NULL;
}

/* Read secrets.yaml beside the config, once; n is the first !secret. */
static int load_secrets(schema_ctx *c, yaml_node_t *n, const char *path, const char *name)
{
    char sh[SCHEMA_SHOW_LEN];
    if (c->secrets_loaded)
        return 0;
    if (!c->secrets_path) {
        const char *slash = strrchr(c->file, '/');
        size_t dirlen = slash ? (size_t)(slash - c->file) + 1 : 0;
        c->secrets_path = malloc(dirlen + sizeof "secrets.yaml");
        if (!c->secrets_path)
            return schema_oom(c);
        memcpy(c->secrets_path, c->file, dirlen);
        memcpy(c->secrets_path + dirlen, "secrets.yaml", sizeof "secrets.yaml");
    }
    FILE *f = fopen(c->secrets_path, "rb");
    if (!f)
        return schema_failx(c, EOTA_EIO, c->file, &n->start_mark, path,
                            "!secret %s: cannot open the secrets file '%s': %s",
                            schema_show(sh, name, false), c->secrets_path, strerror(errno));
    fclose(f);
    if (schema_load(c, c->secrets_path, &c->secrets, "secrets file") != 0)
        return -1;
    c->secrets_loaded = true;
    return 0;
}

int schema_secret(schema_ctx *c, yaml_node_t *n, const char *path, const char **out)
{
    const char *name = schema_text(n);
    char sh[SCHEMA_SHOW_LEN];
    if (!*name)
        return FAIL(c, n, path, "!secret needs the name of an entry of secrets.yaml");
    if (load_secrets(c, n, path, name))
        return -1;
    yaml_node_t *root = yaml_document_get_root_node(&c->secrets);
    if (root->type != YAML_MAPPING_NODE)
        return schema_failx(c, EOTA_EINVAL, c->secrets_path, &root->start_mark, NULL,
                            "the secrets file must be a mapping of names to values");
    yaml_node_t *v = schema_doc_map_get(&c->secrets, root, name);
    schema_show(sh, name, false);
    if (!v)
        return FAIL(c, n, path, "!secret %s is not defined in the secrets file '%s'", sh,
                    c->secrets_path);
    if (v->type != YAML_SCALAR_NODE || schema_is_null(v))
        return FAIL(c, n, path, "!secret %s: the entry in '%s' must be a plain value", sh,
                    c->secrets_path);
    if (strlen(schema_text(v)) != v->data.scalar.length)
        return FAIL(c, n, path, "!secret %s: the value contains a NUL byte", sh);
    *out = schema_text(v);
    return 0;
}
