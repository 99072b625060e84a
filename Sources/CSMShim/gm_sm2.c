/* SM2 keys and signatures over EVP. All curve arithmetic happens inside OpenSSL. */

#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "gm_internal.h"

static void set_error(int *error, int value) {
    if (error != NULL) *error = value;
}

/* Builds an SM2-typed EVP_PKEY from a public point and, when priv is not NULL, a private scalar. */
static EVP_PKEY *build_sm2(const BIGNUM *priv, const uint8_t point[65]) {
    EVP_PKEY *key = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    if (bld == NULL) goto done;
    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0) != 1) goto done;
    if (OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 65) != 1) goto done;
    if (priv != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1) goto done;
    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL) goto done;
    pctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1) goto done;
    if (EVP_PKEY_fromdata(pctx, &key, priv != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1) {
        key = NULL;
    }
done:
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params); /* secure-heap parts (the private scalar) are cleansed */
    OSSL_PARAM_BLD_free(bld);
    return key;
}

int gm_point_of(EVP_PKEY *key, uint8_t out[65]) {
    BIGNUM *x = NULL, *y = NULL;
    int ok = 0;
    if (key == NULL) return 0;
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1) goto done;
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1) goto done;
    out[0] = 0x04;
    if (BN_bn2binpad(x, out + 1, 32) != 32 || BN_bn2binpad(y, out + 33, 32) != 32) goto done;
    ok = 1;
done:
    BN_free(x);
    BN_free(y);
    return ok;
}

/* Whether key lives on the SM2 curve (group name "SM2"). */
static int on_sm2_curve(EVP_PKEY *key) {
    char name[64];
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) != 1) return 0;
    return strcmp(name, "SM2") == 0;
}

EVP_PKEY *gm_as_sm2(EVP_PKEY *key, int *error) {
    if (key == NULL) {
        set_error(error, GM_ERR_ARGUMENT);
        return NULL;
    }
    if (EVP_PKEY_is_a(key, "SM2")) {
        if (EVP_PKEY_up_ref(key) != 1) {
            set_error(error, GM_ERR_OPENSSL);
            return NULL;
        }
        return key;
    }
    if (!EVP_PKEY_is_a(key, "EC") || !on_sm2_curve(key)) {
        ERR_clear_error();
        set_error(error, GM_ERR_NOT_SM2);
        return NULL;
    }
    /* An EC key on the SM2 curve: rebuild it as an SM2 key so that EVP signs with SM2. */
    uint8_t point[65];
    BIGNUM *priv = NULL;
    if (!gm_point_of(key, point)) {
        set_error(error, GM_ERR_PARSE);
        return NULL;
    }
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &priv) != 1) {
        priv = NULL; /* a public key */
        ERR_clear_error();
    }
    EVP_PKEY *sm2 = build_sm2(priv, point);
    BN_clear_free(priv);
    if (sm2 == NULL) set_error(error, GM_ERR_OPENSSL);
    return sm2;
}

gm_pkey *gm_sm2_generate(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "SM2"); }

gm_pkey *gm_sm2_private_from_scalar(const uint8_t *d, size_t len, int *error) {
    set_error(error, GM_ERR_OPENSSL);
    if (d == NULL || len != 32) {
        set_error(error, GM_ERR_ARGUMENT);
        return NULL;
    }
    EVP_PKEY *key = NULL;
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_sm2);
    BN_CTX *bnctx = BN_CTX_secure_new();
    BIGNUM *priv = BN_secure_new();
    BIGNUM *limit = BN_new();
    EC_POINT *pub = NULL;
    uint8_t point[65];
    if (group == NULL || bnctx == NULL || priv == NULL || limit == NULL) goto done;
    if (BN_bin2bn(d, 32, priv) == NULL) goto done;
    /* SM2 private keys lie in [1, n-2], so that 1 + d is invertible modulo n. */
    if (BN_copy(limit, EC_GROUP_get0_order(group)) == NULL || BN_sub_word(limit, 1) != 1) goto done;
    if (BN_is_zero(priv) || BN_cmp(priv, limit) >= 0) {
        set_error(error, GM_ERR_ARGUMENT);
        goto done;
    }
    pub = EC_POINT_new(group);
    if (pub == NULL || EC_POINT_mul(group, pub, priv, NULL, NULL, bnctx) != 1) goto done;
    if (EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED, point, sizeof(point), bnctx) != 65) goto done;
    key = build_sm2(priv, point);
done:
    EC_POINT_free(pub);
    BN_free(limit);
    BN_clear_free(priv);
    BN_CTX_free(bnctx);
    EC_GROUP_free(group);
    return key;
}

gm_pkey *gm_sm2_public_from_point(const uint8_t *p, size_t len, int *error) {
    set_error(error, GM_ERR_OPENSSL);
    if (p == NULL || len != 65 || p[0] != 0x04) {
        set_error(error, GM_ERR_ARGUMENT);
        return NULL;
    }
    EVP_PKEY *key = NULL;
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_sm2);
    EC_POINT *point = NULL;
    if (group == NULL) goto done;
    point = EC_POINT_new(group);
    if (point == NULL) goto done;
    /* oct2point refuses coordinates >= p and points off the curve. */
    if (EC_POINT_oct2point(group, point, p, len, NULL) != 1 || EC_POINT_is_on_curve(group, point, NULL) != 1 ||
        EC_POINT_is_at_infinity(group, point)) {
        ERR_clear_error();
        set_error(error, GM_ERR_PARSE);
        goto done;
    }
    key = build_sm2(NULL, p);
done:
    EC_POINT_free(point);
    EC_GROUP_free(group);
    return key;
}

gm_pkey *gm_ed25519_public_from_raw(const uint8_t *raw, size_t len) {
    if (raw == NULL || len != 32) return NULL;
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, raw, len);
    if (key == NULL) ERR_clear_error();
    return key;
}

/* The PEM passphrase callback: refuses, so that encrypted PEM fails instead of prompting. */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

gm_pkey *gm_sm2_private_from_pem(const char *pem, size_t len, int *error) {
    set_error(error, GM_ERR_PARSE);
    if (pem == NULL || len == 0 || len > INT_MAX) return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL) return NULL;
    EVP_PKEY *any = PEM_read_bio_PrivateKey_ex(bio, NULL, no_passphrase, NULL, NULL, NULL);
    BIO_free(bio);
    if (any == NULL) {
        ERR_clear_error();
        return NULL;
    }
    EVP_PKEY *key = gm_as_sm2(any, error);
    EVP_PKEY_free(any);
    return key;
}

gm_pkey *gm_sm2_public_from_der(const uint8_t *der, size_t len, int *error) {
    set_error(error, GM_ERR_PARSE);
    if (der == NULL || len == 0 || len > LONG_MAX) return NULL;
    const unsigned char *p = der;
    EVP_PKEY *any = d2i_PUBKEY(NULL, &p, (long)len);
    if (any == NULL || p != der + len) {
        EVP_PKEY_free(any);
        ERR_clear_error();
        return NULL;
    }
    EVP_PKEY *key = gm_as_sm2(any, error);
    EVP_PKEY_free(any);
    return key;
}

gm_pkey *gm_sm2_public_from_pem(const char *pem, size_t len, int *error) {
    set_error(error, GM_ERR_PARSE);
    if (pem == NULL || len == 0 || len > INT_MAX) return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL) return NULL;
    EVP_PKEY *any = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (any == NULL) {
        ERR_clear_error();
        return NULL;
    }
    EVP_PKEY *key = gm_as_sm2(any, error);
    EVP_PKEY_free(any);
    return key;
}

int gm_sm2_private_scalar(gm_pkey *key, uint8_t *out) {
    if (key == NULL || out == NULL) return GM_ERR_ARGUMENT;
    BIGNUM *priv = NULL;
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &priv) != 1) return GM_ERR_OPENSSL;
    int ok = BN_bn2binpad(priv, out, 32) == 32;
    BN_clear_free(priv);
    return ok ? GM_OK : GM_ERR_OPENSSL;
}

int gm_sm2_public_point(gm_pkey *key, uint8_t *out) {
    if (key == NULL || out == NULL) return GM_ERR_ARGUMENT;
    return gm_point_of(key, out) ? GM_OK : GM_ERR_OPENSSL;
}

int gm_sm2_private_to_pem(gm_pkey *key, char **out, size_t *outlen) {
    if (key == NULL || out == NULL || outlen == NULL) return GM_ERR_ARGUMENT;
    /* A secure-memory BIO: the PEM of the private key is cleansed when the BIO is freed. */
    BIO *bio = BIO_new(BIO_s_secmem());
    if (bio == NULL) return GM_ERR_OPENSSL;
    int rc = GM_ERR_OPENSSL;
    /* OpenSSL 3 writes "PRIVATE KEY" (PKCS#8) for provider keys. */
    if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1) rc = gm_bio_to_buffer(bio, out, outlen);
    BIO_free(bio);
    return rc;
}

int gm_sm2_public_to_der(gm_pkey *key, uint8_t **out, size_t *outlen) {
    if (key == NULL || out == NULL || outlen == NULL) return GM_ERR_ARGUMENT;
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    if (n <= 0 || der == NULL) return GM_ERR_OPENSSL;
    *out = der;
    *outlen = (size_t)n;
    return GM_OK;
}

int gm_sm2_public_to_pem(gm_pkey *key, char **out, size_t *outlen) {
    if (key == NULL || out == NULL || outlen == NULL) return GM_ERR_ARGUMENT;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) return GM_ERR_OPENSSL;
    int rc = GM_ERR_OPENSSL;
    if (PEM_write_bio_PUBKEY(bio, key) == 1) rc = gm_bio_to_buffer(bio, out, outlen);
    BIO_free(bio);
    return rc;
}

void gm_pkey_free(gm_pkey *key) { EVP_PKEY_free(key); }

/* ---- signatures ---- */

/* Initialises ctx for SM3 digest-sign or digest-verify with key and the SM2 user id. The id is
 * set after init: OpenSSL 3.0 refuses it as an init parameter, and without it the Z value is
 * computed over an empty id (ENTL = 0), not over the GM/T 0009 default. */
static int init_sm2_ctx(EVP_MD_CTX *ctx, int sign, EVP_PKEY *key, const uint8_t *id, size_t idlen) {
    int r = sign ? EVP_DigestSignInit_ex(ctx, NULL, "SM3", NULL, NULL, key, NULL)
                 : EVP_DigestVerifyInit_ex(ctx, NULL, "SM3", NULL, NULL, key, NULL);
    if (r != 1) return 0;
    EVP_PKEY_CTX *pctx = EVP_MD_CTX_get_pkey_ctx(ctx);
    if (pctx == NULL || EVP_PKEY_CTX_set1_id(pctx, GM_NN(id), idlen) != 1) return 0;
    /* Finalise in place instead of duplicating the context at every final. */
    EVP_MD_CTX_set_flags(ctx, EVP_MD_CTX_FLAG_FINALISE);
    return 1;
}

int gm_sm2_sign(gm_pkey *key, const uint8_t *id, size_t idlen, const uint8_t *msg, size_t msglen, uint8_t *sig,
                size_t *siglen) {
    if (key == NULL || sig == NULL || siglen == NULL || idlen > GM_SM2_MAX_ID) return GM_ERR_ARGUMENT;
    if (!EVP_PKEY_is_a(key, "SM2")) return GM_ERR_NOT_SM2;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) return GM_ERR_OPENSSL;
    int rc = GM_ERR_OPENSSL;
    size_t n = GM_SM2_MAX_SIGNATURE;
    if (init_sm2_ctx(ctx, 1, key, id, idlen) && EVP_DigestSignUpdate(ctx, GM_NN(msg), msglen) == 1 &&
        EVP_DigestSignFinal(ctx, sig, &n) == 1) {
        *siglen = n;
        rc = GM_OK;
    }
    EVP_MD_CTX_free(ctx);
    return rc;
}

int gm_sm2_verify(gm_pkey *key, const uint8_t *id, size_t idlen, const uint8_t *msg, size_t msglen,
                  const uint8_t *sig, size_t siglen) {
    if (key == NULL || sig == NULL || siglen < 8 || siglen > GM_SM2_MAX_SIGNATURE || idlen > GM_SM2_MAX_ID) return 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) return 0;
    /* OpenSSL decodes the DER, re-encodes it and compares (no trailing or non-minimal bytes),
     * and checks 1 <= r, s <= n-1 and r + s != 0 mod n before any point arithmetic. */
    int ok = init_sm2_ctx(ctx, 0, key, id, idlen) && EVP_DigestVerifyUpdate(ctx, GM_NN(msg), msglen) == 1 &&
             EVP_DigestVerifyFinal(ctx, sig, siglen) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok ? 1 : 0;
}

gm_md_ctx *gm_sm2_verify_prototype(gm_pkey *key, const uint8_t *id, size_t idlen) {
    if (key == NULL || idlen > GM_SM2_MAX_ID) return NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) return NULL;
    /* An empty update makes the provider compute Z and absorb it now, once. */
    if (!init_sm2_ctx(ctx, 0, key, id, idlen) || EVP_DigestVerifyUpdate(ctx, gm_empty, 0) != 1) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

gm_md_ctx *gm_md_ctx_new(void) { return EVP_MD_CTX_new(); }

int gm_md_copy_into(gm_md_ctx *work, const gm_md_ctx *prototype) {
    if (work == NULL || prototype == NULL) return GM_ERR_ARGUMENT;
    return EVP_MD_CTX_copy_ex(work, prototype) == 1 ? GM_OK : GM_ERR_OPENSSL;
}

int gm_sm2_verify_continue(gm_md_ctx *work, const uint8_t *msg, size_t msglen, const uint8_t *sig, size_t siglen) {
    if (work == NULL || sig == NULL || siglen < 8 || siglen > GM_SM2_MAX_SIGNATURE) return 0;
    int ok = EVP_DigestVerifyUpdate(work, GM_NN(msg), msglen) == 1 && EVP_DigestVerifyFinal(work, sig, siglen) == 1;
    ERR_clear_error();
    return ok ? 1 : 0;
}

int gm_sm2_verify_with_prototype(const gm_md_ctx *prototype, gm_md_ctx *work, const uint8_t *msg, size_t msglen,
                                 const uint8_t *sig, size_t siglen) {
    if (prototype == NULL || work == NULL || sig == NULL || siglen < 8 || siglen > GM_SM2_MAX_SIGNATURE) return 0;
    int ok = EVP_MD_CTX_copy_ex(work, prototype) == 1 && EVP_DigestVerifyUpdate(work, GM_NN(msg), msglen) == 1 &&
             EVP_DigestVerifyFinal(work, sig, siglen) == 1;
    ERR_clear_error();
    return ok ? 1 : 0;
}
