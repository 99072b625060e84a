/* Errors, memory, randomness, digests, HMAC-SM3, HKDF-SM3 and SM4. */

#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "gm_internal.h"

const uint8_t gm_empty[1] = {0};

size_t gm_error_string(char *buf, size_t len) {
    unsigned long code = ERR_peek_last_error();
    size_t written = 0;
    if (buf != NULL && len > 0) {
        buf[0] = '\0';
        if (code != 0) {
            ERR_error_string_n(code, buf, len);
            written = strlen(buf);
        }
    }
    ERR_clear_error();
    return written;
}

void gm_clear_errors(void) { ERR_clear_error(); }

void gm_free(void *ptr) { OPENSSL_free(ptr); }

void gm_clear_free(void *ptr, size_t len) { OPENSSL_clear_free(ptr, len); }

int gm_random_bytes(uint8_t *out, size_t len) {
    if (len == 0) return GM_OK;
    if (out == NULL || len > INT_MAX) return GM_ERR_ARGUMENT;
    return RAND_bytes(out, (int)len) == 1 ? GM_OK : GM_ERR_OPENSSL;
}

int gm_constant_time_equal(const uint8_t *a, const uint8_t *b, size_t len) {
    if (len == 0) return 1;
    if (a == NULL || b == NULL) return 0;
    return CRYPTO_memcmp(a, b, len) == 0 ? 1 : 0;
}

const char *gm_openssl_version(void) { return OpenSSL_version(OPENSSL_VERSION); }

int gm_bio_to_buffer(BIO *bio, char **out, size_t *outlen) {
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || data == NULL) return GM_ERR_OPENSSL;
    char *copy = OPENSSL_malloc((size_t)n + 1);
    if (copy == NULL) return GM_ERR_OPENSSL;
    memcpy(copy, data, (size_t)n);
    copy[n] = '\0';
    *out = copy;
    *outlen = (size_t)n;
    return GM_OK;
}

/* ---- digests ---- */

int gm_digest(const char *name, const uint8_t *data, size_t len, uint8_t *out, size_t *outlen) {
    if (name == NULL || out == NULL || outlen == NULL) return GM_ERR_ARGUMENT;
    const EVP_MD *md = NULL;
    if (strcmp(name, "SM3") == 0) {
        md = EVP_sm3();
    } else if (strcmp(name, "SHA256") == 0) {
        md = EVP_sha256();
    } else {
        return GM_ERR_ARGUMENT;
    }
    unsigned int n = 0;
    if (EVP_Digest(GM_NN(data), len, out, &n, md, NULL) != 1) return GM_ERR_OPENSSL;
    *outlen = n;
    return GM_OK;
}

gm_md_ctx *gm_sm3_new(void) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) return NULL;
    if (EVP_DigestInit_ex(ctx, EVP_sm3(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int gm_md_update(gm_md_ctx *ctx, const uint8_t *data, size_t len) {
    if (ctx == NULL) return GM_ERR_ARGUMENT;
    if (len == 0) return GM_OK;
    return EVP_DigestUpdate(ctx, data, len) == 1 ? GM_OK : GM_ERR_OPENSSL;
}

int gm_md_final(gm_md_ctx *ctx, uint8_t *out) {
    if (ctx == NULL || out == NULL) return GM_ERR_ARGUMENT;
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != 32) return GM_ERR_OPENSSL;
    return GM_OK;
}

gm_md_ctx *gm_md_copy(const gm_md_ctx *ctx) {
    if (ctx == NULL) return NULL;
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    if (copy == NULL) return NULL;
    if (EVP_MD_CTX_copy_ex(copy, ctx) != 1) {
        EVP_MD_CTX_free(copy);
        return NULL;
    }
    return copy;
}

void gm_md_free(gm_md_ctx *ctx) { EVP_MD_CTX_free(ctx); }

int gm_hmac_sm3(const uint8_t *key, size_t keylen, const uint8_t *data, size_t len, uint8_t *out) {
    if (out == NULL) return GM_ERR_ARGUMENT;
    size_t n = 0;
    unsigned char *r = EVP_Q_mac(NULL, "HMAC", NULL, "SM3", NULL, GM_NN(key), keylen, GM_NN(data), len, out, 32, &n);
    return (r != NULL && n == 32) ? GM_OK : GM_ERR_OPENSSL;
}

int gm_hkdf_sm3(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt, size_t saltlen, const uint8_t *info,
                size_t infolen, uint8_t *out, size_t outlen) {
    if (out == NULL || outlen == 0 || outlen > 255 * 32 || ikmlen == 0 || ikm == NULL) return GM_ERR_ARGUMENT;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf == NULL) return GM_ERR_OPENSSL;
    EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (kctx == NULL) return GM_ERR_OPENSSL;
    OSSL_PARAM params[5];
    size_t i = 0;
    params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SM3", 0);
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
    if (saltlen > 0 && salt != NULL)
        params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
    if (infolen > 0 && info != NULL)
        params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, infolen);
    params[i] = OSSL_PARAM_construct_end();
    int ok = EVP_KDF_derive(kctx, out, outlen, params) == 1;
    EVP_KDF_CTX_free(kctx);
    return ok ? GM_OK : GM_ERR_OPENSSL;
}

/* ---- SM4 ---- */

int gm_sm4_cbc(int encrypt, const uint8_t *key, const uint8_t *iv, const uint8_t *in, size_t inlen, uint8_t *out,
               size_t *outlen) {
    if (key == NULL || iv == NULL || out == NULL || outlen == NULL) return GM_ERR_ARGUMENT;
    if (inlen > INT_MAX - 32) return GM_ERR_ARGUMENT;
    if (!encrypt && (inlen == 0 || inlen % 16 != 0)) return GM_ERR_ARGUMENT;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return GM_ERR_OPENSSL;
    int ok = 0, n1 = 0, n2 = 0;
    if (EVP_CipherInit_ex2(ctx, EVP_sm4_cbc(), key, iv, encrypt ? 1 : 0, NULL) != 1) goto done;
    if (EVP_CIPHER_CTX_set_padding(ctx, 1) != 1) goto done;
    if (inlen > 0 && EVP_CipherUpdate(ctx, out, &n1, in, (int)inlen) != 1) goto done;
    /* A wrong key or corrupted data shows here as bad padding. */
    if (EVP_CipherFinal_ex(ctx, out + n1, &n2) != 1) goto done;
    *outlen = (size_t)n1 + (size_t)n2;
    ok = 1;
done:
    EVP_CIPHER_CTX_free(ctx);
    return ok ? GM_OK : GM_ERR_OPENSSL;
}

int gm_sm4_ctr(const uint8_t *key, const uint8_t *iv, const uint8_t *in, size_t inlen, uint8_t *out) {
    if (key == NULL || iv == NULL) return GM_ERR_ARGUMENT;
    if (inlen == 0) return GM_OK;
    if (in == NULL || out == NULL) return GM_ERR_ARGUMENT;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return GM_ERR_OPENSSL;
    int ok = 0;
    if (EVP_EncryptInit_ex2(ctx, EVP_sm4_ctr(), key, iv, NULL) != 1) goto done;
    size_t done_len = 0;
    while (done_len < inlen) {
        /* EVP takes int lengths: go in chunks of at most 1 GiB. */
        size_t chunk = inlen - done_len;
        if (chunk > (1u << 30)) chunk = 1u << 30;
        int n = 0;
        if (EVP_EncryptUpdate(ctx, out + done_len, &n, in + done_len, (int)chunk) != 1 || (size_t)n != chunk)
            goto done;
        done_len += chunk;
    }
    int fin = 0;
    if (EVP_EncryptFinal_ex(ctx, out + inlen, &fin) != 1 || fin != 0) goto done;
    ok = 1;
done:
    EVP_CIPHER_CTX_free(ctx);
    return ok ? GM_OK : GM_ERR_OPENSSL;
}
