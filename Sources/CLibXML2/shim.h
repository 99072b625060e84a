#ifndef CLIBXML2_SHIM_H
#define CLIBXML2_SHIM_H

// The libxml2 headers that CXSDShim uses (Debian: libxml2-dev).
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#endif
