// Exposes Debian's libqrencode (package libqrencode-dev) to Swift as the module CQREncode.
#ifndef XIANGCHAIN_CQRENCODE_SHIM_H
#define XIANGCHAIN_CQRENCODE_SHIM_H

#include <qrencode.h>

#endif
