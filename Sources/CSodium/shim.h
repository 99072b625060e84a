// Exposes Debian's libsodium (package libsodium-dev) to Swift as the module CSodium: Ed25519
// verification of the chain's signatures (ChainCore's Ed25519Verification).
#ifndef XIANGCHAIN_CSODIUM_SHIM_H
#define XIANGCHAIN_CSODIUM_SHIM_H

#include <sodium.h>

#endif
