#ifndef GM_TEST_SUPPORT_H
#define GM_TEST_SUPPORT_H

/*
 * Test-only helpers. Not part of SMCrypto: the production code cannot choose k.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The intermediate and final values of an SM2 signature computed with a chosen k. */
typedef struct {
    uint8_t public_key[65]; /* 04 || xA || yA */
    uint8_t z[32];          /* Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA) */
    uint8_t e[32];          /* e = SM3(Z || M) */
    uint8_t x1[32];         /* x of [k]G */
    uint8_t r[32];          /* r = (e + x1) mod n */
    uint8_t s[32];          /* s = ((1 + d)^-1 * (k - r * d)) mod n */
} gm_test_sm2_result;

/**
 * Computes an SM2 signature with a chosen k on the prime curve given in hex (p, a, b, Gx, Gy, n),
 * using only OpenSSL's EC_GROUP, EC_POINT_mul, BN_mod_* and SM3. Answers 1 on success,
 * 0 on failure (r = 0, r + k = n, s = 0, or bad input).
 */
int gm_test_sm2_sign_with_k(const char *p_hex, const char *a_hex, const char *b_hex, const char *gx_hex,
                            const char *gy_hex, const char *n_hex, const char *d_hex, const char *k_hex,
                            const uint8_t *id, size_t idlen, const uint8_t *msg, size_t msglen,
                            gm_test_sm2_result *out);

/** Encrypts block with SM4 (one block, no mode) rounds times over itself: the GB/T 32907
 *  A.2 vector takes 1,000,000 rounds. */
int gm_test_sm4_encrypt_rounds(const uint8_t *key, uint8_t *block, long rounds);

/** Signs msg with a fresh key of another algorithm ("P-256" ECDSA with SHA-256, or
 *  "ED25519"), writing the signature (DER for ECDSA, raw for Ed25519) and the raw public
 *  key; for hostile-input tests. Answers 1 on success. */
int gm_test_foreign_signature(const char *algorithm, const uint8_t *msg, size_t msglen, uint8_t *sig,
                              size_t *siglen, uint8_t *pub, size_t *publen);

#ifdef __cplusplus
}
#endif

#endif
