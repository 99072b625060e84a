#ifndef XC_XSD_H
#define XC_XSD_H

#include <stddef.h>

/// A compiled W3C XML Schema (libxml2), read-only once loaded: one may validate from several
/// threads at once, each call with its own validation context.
typedef struct xc_xsd xc_xsd;

/// Compiles the schema at `path` (its imports are read from beside it; no network). NULL on
/// failure, with a message in `err`.
xc_xsd *xc_xsd_load(const char *path, char *err, size_t errlen);

/// Validates the XML document `doc[0..<len]` against `schema`. Returns 0 when valid, 1 when not
/// valid (the first problem, with its line, in `err`), -1 when the document cannot be parsed.
/// The parser loads no DTD, substitutes no entities and reads nothing from the network.
int xc_xsd_validate(const xc_xsd *schema, const unsigned char *doc, size_t len, char *err, size_t errlen);

/// Releases a schema.
void xc_xsd_free(xc_xsd *schema);

#endif
