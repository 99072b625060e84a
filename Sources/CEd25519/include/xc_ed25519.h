// Ed25519 verification under one rule for single and batch checks (ChainCore's
// Ed25519Verification wraps it; docs/consensus.md, "Signatures", states the rule).
//
// A signature (R, S) over a message M verifies with the public key A when
//   - S is below the group order L (canonical),
//   - A and R are canonical encodings of points on the curve, neither of small order,
//   - [8](S·B − R − k·A) is the identity, with k = SHA-512(R ‖ A ‖ M) mod L
// (the cofactored equation). A batch verifies when the cofactored sum of its members' equations,
// each weighted by a fresh random 128-bit scalar, is the identity; a batch that fails is checked
// signature by signature, so a batch and its members alone give the same verdicts (but with a
// probability below 2^-120 for a batch holding a bad signature to pass).
#ifndef XIANGCHAIN_XC_ED25519_H
#define XIANGCHAIN_XC_ED25519_H

#include <stddef.h>
#include <stdint.h>

/// Prepares the library (libsodium's random source, the table of multiples of the base point).
/// Returns 0 on success. Safe to call more than once and from several threads.
int xc_ed25519_init(void);

/// 1 when `sig` (64 bytes) over `m` (`mlen` bytes) verifies with `pk` (32 bytes), else 0.
int xc_ed25519_verify(const uint8_t *sig, const uint8_t *m, size_t mlen, const uint8_t *pk);

/// Verifies `n` signatures: item i is `sigs[i]` (64 bytes) over `msgs[i]` (`mlens[i]` bytes)
/// with `pks[i]` (32 bytes). Writes 1 or 0 per item to `ok` and returns how many verified.
/// Batches of any size are taken (checked in groups of at most 64).
size_t xc_ed25519_verify_batch(
    size_t n, const uint8_t *const *sigs, const uint8_t *const *msgs, const size_t *mlens,
    const uint8_t *const *pks, uint8_t *ok);

#endif
