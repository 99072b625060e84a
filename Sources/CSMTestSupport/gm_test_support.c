/* Test-only: the SM2 signature equation with a chosen k, on OpenSSL's EC and BN primitives. */

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "include/gm_test_support.h"

static int sm3(const uint8_t *data, size_t len, uint8_t out[32]) {
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sm3(), NULL) == 1 && n == 32;
}

int gm_test_sm2_sign_with_k(const char *p_hex, const char *a_hex, const char *b_hex, const char *gx_hex,
                            const char *gy_hex, const char *n_hex, const char *d_hex, const char *k_hex,
                            const uint8_t *id, size_t idlen, const uint8_t *msg, size_t msglen,
                            gm_test_sm2_result *out) {
    int ok = 0;
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = NULL, *a = NULL, *b = NULL, *gx = NULL, *gy = NULL, *n = NULL, *d = NULL, *k = NULL;
    BIGNUM *xa = BN_new(), *ya = BN_new(), *x1 = BN_new(), *e = BN_new(), *r = BN_new(), *s = BN_new();
    BIGNUM *t = BN_new(), *u = BN_new();
    EC_GROUP *group = NULL;
    EC_POINT *g = NULL, *pa = NULL, *kg = NULL;
    uint8_t *zin = NULL, *ein = NULL;
    if (ctx == NULL || xa == NULL || ya == NULL || x1 == NULL || e == NULL || r == NULL || s == NULL || t == NULL ||
        u == NULL || out == NULL || idlen > 8191)
        goto done;
    memset(out, 0, sizeof(*out));
    if (!BN_hex2bn(&p, p_hex) || !BN_hex2bn(&a, a_hex) || !BN_hex2bn(&b, b_hex) || !BN_hex2bn(&gx, gx_hex) ||
        !BN_hex2bn(&gy, gy_hex) || !BN_hex2bn(&n, n_hex) || !BN_hex2bn(&d, d_hex) || !BN_hex2bn(&k, k_hex))
        goto done;

    /* The curve and its generator. */
    group = EC_GROUP_new_curve_GFp(p, a, b, ctx);
    if (group == NULL) goto done;
    g = EC_POINT_new(group);
    if (g == NULL || EC_POINT_set_affine_coordinates(group, g, gx, gy, ctx) != 1) goto done;
    if (EC_GROUP_set_generator(group, g, n, BN_value_one()) != 1) goto done;

    /* P_A = [d]G */
    pa = EC_POINT_new(group);
    if (pa == NULL || EC_POINT_mul(group, pa, d, NULL, NULL, ctx) != 1) goto done;
    if (EC_POINT_get_affine_coordinates(group, pa, xa, ya, ctx) != 1) goto done;
    out->public_key[0] = 0x04;
    if (BN_bn2binpad(xa, out->public_key + 1, 32) != 32 || BN_bn2binpad(ya, out->public_key + 33, 32) != 32)
        goto done;

    /* Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA), ENTL the id's length in bits. */
    size_t zlen = 2 + idlen + 6 * 32;
    zin = OPENSSL_malloc(zlen);
    if (zin == NULL) goto done;
    zin[0] = (uint8_t)((idlen * 8) >> 8);
    zin[1] = (uint8_t)((idlen * 8) & 0xff);
    if (idlen > 0) memcpy(zin + 2, id, idlen);
    uint8_t *q = zin + 2 + idlen;
    if (BN_bn2binpad(a, q, 32) != 32 || BN_bn2binpad(b, q + 32, 32) != 32 || BN_bn2binpad(gx, q + 64, 32) != 32 ||
        BN_bn2binpad(gy, q + 96, 32) != 32 || BN_bn2binpad(xa, q + 128, 32) != 32 ||
        BN_bn2binpad(ya, q + 160, 32) != 32)
        goto done;
    if (!sm3(zin, zlen, out->z)) goto done;

    /* e = SM3(Z || M) */
    ein = OPENSSL_malloc(32 + msglen);
    if (ein == NULL) goto done;
    memcpy(ein, out->z, 32);
    if (msglen > 0) memcpy(ein + 32, msg, msglen);
    if (!sm3(ein, 32 + msglen, out->e) || BN_bin2bn(out->e, 32, e) == NULL) goto done;

    /* (x1, y1) = [k]G; r = (e + x1) mod n */
    kg = EC_POINT_new(group);
    if (kg == NULL || EC_POINT_mul(group, kg, k, NULL, NULL, ctx) != 1) goto done;
    if (EC_POINT_get_affine_coordinates(group, kg, x1, NULL, ctx) != 1) goto done;
    if (BN_bn2binpad(x1, out->x1, 32) != 32) goto done;
    if (BN_mod_add(r, e, x1, n, ctx) != 1 || BN_is_zero(r)) goto done;
    if (BN_add(t, r, k) != 1 || BN_cmp(t, n) == 0) goto done;

    /* s = ((1 + d)^-1 * (k - r * d)) mod n */
    if (BN_add(t, d, BN_value_one()) != 1 || BN_mod_inverse(t, t, n, ctx) == NULL) goto done;
    if (BN_mod_mul(u, r, d, n, ctx) != 1 || BN_mod_sub(u, k, u, n, ctx) != 1) goto done;
    if (BN_mod_mul(s, t, u, n, ctx) != 1 || BN_is_zero(s)) goto done;
    if (BN_bn2binpad(r, out->r, 32) != 32 || BN_bn2binpad(s, out->s, 32) != 32) goto done;
    ok = 1;
done:
    OPENSSL_free(zin);
    OPENSSL_free(ein);
    EC_POINT_free(g);
    EC_POINT_free(pa);
    EC_POINT_free(kg);
    EC_GROUP_free(group);
    BN_free(p);
    BN_free(a);
    BN_free(b);
    BN_free(gx);
    BN_free(gy);
    BN_free(n);
    BN_clear_free(d);
    BN_clear_free(k);
    BN_free(xa);
    BN_free(ya);
    BN_free(x1);
    BN_free(e);
    BN_free(r);
    BN_free(s);
    BN_clear_free(t);
    BN_clear_free(u);
    BN_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

int gm_test_sm4_encrypt_rounds(const uint8_t *key, uint8_t *block, long rounds) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = 0;
    if (ctx == NULL || EVP_EncryptInit_ex2(ctx, EVP_sm4_ecb(), key, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
        goto done;
    for (long i = 0; i < rounds; i++) {
        int n = 0;
        if (EVP_EncryptUpdate(ctx, block, &n, block, 16) != 1 || n != 16) goto done;
    }
    ok = 1;
done:
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

int gm_test_foreign_signature(const char *algorithm, const uint8_t *msg, size_t msglen, uint8_t *sig,
                              size_t *siglen, uint8_t *pub, size_t *publen) {
    int ed = strcmp(algorithm, "ED25519") == 0;
    EVP_PKEY *key = ed ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = 0;
    if (key == NULL || ctx == NULL) goto done;
    if (EVP_DigestSignInit_ex(ctx, NULL, ed ? NULL : "SHA256", NULL, NULL, key, NULL) != 1) goto done;
    if (EVP_DigestSign(ctx, sig, siglen, msg, msglen) != 1) goto done;
    if (ed) {
        if (EVP_PKEY_get_raw_public_key(key, pub, publen) != 1) goto done;
    } else {
        if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, *publen, publen) != 1) goto done;
    }
    ok = 1;
done:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    ERR_clear_error();
    return ok;
}
