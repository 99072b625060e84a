// XML Schema validation of EPCIS XML capture documents with libxml2: the only code that calls
// libxml2. The caller (API's EPCISXMLSchemas) has already read the document with the project's
// own bounded XML reader, which refuses DTDs with an internal subset.
#include "xc_xsd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

struct xc_xsd {
    xmlSchemaPtr schema;
};

typedef struct {
    char *buf;
    size_t len;
    int seen;
} first_error;

static void copy_message(first_error *fe, const char *message, int line) {
    if (fe == NULL || fe->seen || fe->buf == NULL || fe->len == 0) return;
    fe->seen = 1;
    char text[512];
    snprintf(text, sizeof text, "%s", message ? message : "invalid");
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ')) text[--n] = 0;
    if (line > 0) {
        snprintf(fe->buf, fe->len, "line %d: %s", line, text);
    } else {
        snprintf(fe->buf, fe->len, "%s", text);
    }
}

// libxml2 2.9 passes xmlErrorPtr, 2.12 const xmlError *: both are a pointer to the same struct.
static void on_error(void *ctx, xmlErrorPtr error) {
    if (error == NULL) return;
    copy_message((first_error *)ctx, error->message, error->line);
}

static void quiet(void *ctx, const char *msg, ...) {
    (void)ctx;
    (void)msg;
}

xc_xsd *xc_xsd_load(const char *path, char *err, size_t errlen) {
    xmlInitParser();
    first_error fe = {err, errlen, 0};
    if (err && errlen) err[0] = 0;
    xmlSchemaParserCtxtPtr pctx = xmlSchemaNewParserCtxt(path);
    if (pctx == NULL) {
        copy_message(&fe, "cannot read the schema", 0);
        return NULL;
    }
    xmlSchemaSetParserStructuredErrors(pctx, (xmlStructuredErrorFunc)on_error, &fe);
    xmlSchemaSetParserErrors(pctx, quiet, quiet, NULL);
    xmlSchemaPtr schema = xmlSchemaParse(pctx);
    xmlSchemaFreeParserCtxt(pctx);
    if (schema == NULL) {
        copy_message(&fe, "the schema does not compile", 0);
        return NULL;
    }
    xc_xsd *out = malloc(sizeof *out);
    if (out == NULL) {
        xmlSchemaFree(schema);
        return NULL;
    }
    out->schema = schema;
    return out;
}

int xc_xsd_validate(const xc_xsd *schema, const unsigned char *doc, size_t len, char *err, size_t errlen) {
    first_error fe = {err, errlen, 0};
    if (err && errlen) err[0] = 0;
    if (schema == NULL || doc == NULL || len > (size_t)0x7fffffff) {
        copy_message(&fe, "no schema or document", 0);
        return -1;
    }
    xmlParserCtxtPtr pctx = xmlNewParserCtxt();
    if (pctx == NULL) {
        copy_message(&fe, "out of memory", 0);
        return -1;
    }
    // No DTD loading, no entity substitution, no network, no huge-document relaxations.
    int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    xmlDocPtr parsed = xmlCtxtReadMemory(pctx, (const char *)doc, (int)len, "capture.xml", NULL, options);
    if (parsed == NULL) {
        xmlErrorPtr e = xmlCtxtGetLastError(pctx);
        copy_message(&fe, e ? e->message : "not well-formed XML", e ? e->line : 0);
        xmlFreeParserCtxt(pctx);
        return -1;
    }
    xmlFreeParserCtxt(pctx);
    xmlSchemaValidCtxtPtr vctx = xmlSchemaNewValidCtxt(schema->schema);
    if (vctx == NULL) {
        xmlFreeDoc(parsed);
        copy_message(&fe, "out of memory", 0);
        return -1;
    }
    xmlSchemaSetValidStructuredErrors(vctx, (xmlStructuredErrorFunc)on_error, &fe);
    int rc = xmlSchemaValidateDoc(vctx, parsed);
    xmlSchemaFreeValidCtxt(vctx);
    xmlFreeDoc(parsed);
    if (rc == 0) return 0;
    if (rc > 0) {
        copy_message(&fe, "not valid against the schema", 0);
        return 1;
    }
    copy_message(&fe, "the validator failed", 0);
    return -1;
}

void xc_xsd_free(xc_xsd *schema) {
    if (schema == NULL) return;
    xmlSchemaFree(schema->schema);
    free(schema);
}
