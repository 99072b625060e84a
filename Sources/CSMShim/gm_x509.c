/* X.509 certificates signed with SM2-with-SM3: building, reading and verifying. */

#include <arpa/inet.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "gm_internal.h"

#define GM_MAX_EXTENSIONS 16

X509 *gm_parse_certificate(const uint8_t *der, size_t len) {
    if (der == NULL || len == 0 || len > LONG_MAX) return NULL;
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)len);
    if (cert == NULL || p != der + len) {
        X509_free(cert);
        ERR_clear_error();
        return NULL;
    }
    return cert;
}

int gm_set_distinguishing_id(X509 *cert, const uint8_t *id, size_t idlen) {
    if (idlen > GM_SM2_MAX_ID) return 0;
    ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
    if (v == NULL) return 0;
    if (ASN1_OCTET_STRING_set(v, GM_NN(id), (int)idlen) != 1) {
        ASN1_OCTET_STRING_free(v);
        return 0;
    }
    X509_set0_distinguishing_id(cert, v); /* takes ownership */
    return 1;
}

/* ---- building ---- */

struct gm_cert_builder {
    X509 *cert;
    X509 *issuer; /* NULL: self-signed */
    X509_NAME *subject;
    int extension_count;
    char *extension_name[GM_MAX_EXTENSIONS];
    char *extension_value[GM_MAX_EXTENSIONS];
};

gm_cert_builder *gm_cert_builder_new(void) {
    gm_cert_builder *b = OPENSSL_zalloc(sizeof(*b));
    if (b == NULL) return NULL;
    b->cert = X509_new();
    b->subject = X509_NAME_new();
    if (b->cert == NULL || b->subject == NULL || X509_set_version(b->cert, X509_VERSION_3) != 1) {
        gm_cert_builder_free(b);
        return NULL;
    }
    return b;
}

void gm_cert_builder_free(gm_cert_builder *b) {
    if (b == NULL) return;
    X509_free(b->cert);
    X509_free(b->issuer);
    X509_NAME_free(b->subject);
    for (int i = 0; i < b->extension_count; i++) {
        OPENSSL_free(b->extension_name[i]);
        OPENSSL_free(b->extension_value[i]);
    }
    OPENSSL_free(b);
}

int gm_cert_builder_set_serial(gm_cert_builder *b, const uint8_t *serial, size_t len) {
    if (b == NULL || serial == NULL || len == 0 || len > 20 || serial[0] >= 0x80) return GM_ERR_ARGUMENT;
    int nonzero = 0;
    for (size_t i = 0; i < len; i++) nonzero |= serial[i];
    if (!nonzero) return GM_ERR_ARGUMENT;
    BIGNUM *bn = BN_bin2bn(serial, (int)len, NULL);
    ASN1_INTEGER *ai = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    int ok = ai != NULL && X509_set_serialNumber(b->cert, ai) == 1;
    ASN1_INTEGER_free(ai);
    BN_free(bn);
    return ok ? GM_OK : GM_ERR_OPENSSL;
}

int gm_cert_builder_set_validity(gm_cert_builder *b, int64_t not_before, int64_t not_after) {
    if (b == NULL || not_after < not_before) return GM_ERR_ARGUMENT;
    /* ASN1_TIME_set picks UTCTime up to 2049 and GeneralizedTime after, as RFC 5280 asks. */
    ASN1_TIME *nb = ASN1_TIME_set(NULL, (time_t)not_before);
    ASN1_TIME *na = ASN1_TIME_set(NULL, (time_t)not_after);
    int ok = nb != NULL && na != NULL && X509_set1_notBefore(b->cert, nb) == 1 && X509_set1_notAfter(b->cert, na) == 1;
    ASN1_TIME_free(nb);
    ASN1_TIME_free(na);
    return ok ? GM_OK : GM_ERR_OPENSSL;
}

int gm_cert_builder_add_subject(gm_cert_builder *b, const char *field, const uint8_t *utf8, size_t len) {
    if (b == NULL || field == NULL || utf8 == NULL || len == 0 || len > INT_MAX) return GM_ERR_ARGUMENT;
    /* OpenSSL enforces the X.520 upper bounds (64 characters for O, OU and CN). */
    if (X509_NAME_add_entry_by_txt(b->subject, field, MBSTRING_UTF8, utf8, (int)len, -1, 0) != 1)
        return GM_ERR_ARGUMENT;
    return GM_OK;
}

int gm_cert_builder_set_public_key(gm_cert_builder *b, gm_pkey *key) {
    if (b == NULL || key == NULL) return GM_ERR_ARGUMENT;
    /* SM2 keys, and Ed25519 keys for the TLS transport certificates that a node's SM2 key
     * certifies (docs/network.md). */
    if (!EVP_PKEY_is_a(key, "SM2") && !EVP_PKEY_is_a(key, "ED25519")) return GM_ERR_NOT_SM2;
    return X509_set_pubkey(b->cert, key) == 1 ? GM_OK : GM_ERR_OPENSSL;
}

int gm_cert_builder_set_issuer(gm_cert_builder *b, const uint8_t *der, size_t len) {
    if (b == NULL) return GM_ERR_ARGUMENT;
    X509 *issuer = gm_parse_certificate(der, len);
    if (issuer == NULL) return GM_ERR_PARSE;
    X509_free(b->issuer);
    b->issuer = issuer;
    return GM_OK;
}

int gm_cert_builder_add_extension(gm_cert_builder *b, const char *name, const char *value) {
    if (b == NULL || name == NULL || value == NULL || b->extension_count >= GM_MAX_EXTENSIONS) return GM_ERR_ARGUMENT;
    char *n = OPENSSL_strdup(name);
    char *v = OPENSSL_strdup(value);
    if (n == NULL || v == NULL) {
        OPENSSL_free(n);
        OPENSSL_free(v);
        return GM_ERR_OPENSSL;
    }
    b->extension_name[b->extension_count] = n;
    b->extension_value[b->extension_count] = v;
    b->extension_count++;
    return GM_OK;
}

int gm_cert_builder_sign(gm_cert_builder *b, gm_pkey *issuer_key, const uint8_t *id, size_t idlen, uint8_t **der,
                         size_t *derlen) {
    if (b == NULL || issuer_key == NULL || der == NULL || derlen == NULL || idlen > GM_SM2_MAX_ID)
        return GM_ERR_ARGUMENT;
    if (!EVP_PKEY_is_a(issuer_key, "SM2")) return GM_ERR_NOT_SM2;
    X509 *cert = b->cert;
    EVP_PKEY *subject_key = X509_get0_pubkey(cert);
    if (subject_key == NULL) return GM_ERR_ARGUMENT;

    /* The signing key must be the issuer's: the subject's own key when self-signed. */
    uint8_t expected[65], actual[65];
    EVP_PKEY *issuer_public = b->issuer != NULL ? X509_get0_pubkey(b->issuer) : subject_key;
    if (issuer_public == NULL || !gm_point_of(issuer_public, expected) || !gm_point_of(issuer_key, actual)) {
        ERR_clear_error();
        return GM_ERR_NOT_SM2;
    }
    if (memcmp(expected, actual, 65) != 0) return GM_ERR_KEY_MISMATCH;

    if (X509_set_subject_name(cert, b->subject) != 1) return GM_ERR_OPENSSL;
    X509_NAME *issuer_name = b->issuer != NULL ? X509_get_subject_name(b->issuer) : b->subject;
    if (X509_set_issuer_name(cert, issuer_name) != 1) return GM_ERR_OPENSSL;

    X509V3_CTX v3;
    X509V3_set_ctx(&v3, b->issuer != NULL ? b->issuer : cert, cert, NULL, NULL, 0);
    for (int i = 0; i < b->extension_count; i++) {
        X509_EXTENSION *ext = X509V3_EXT_conf(NULL, &v3, b->extension_name[i], b->extension_value[i]);
        if (ext == NULL) return GM_ERR_ARGUMENT;
        int ok = X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
        if (ok != 1) return GM_ERR_OPENSSL;
    }

    int rc = GM_ERR_OPENSSL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) return GM_ERR_OPENSSL;
    if (EVP_DigestSignInit_ex(ctx, NULL, "SM3", NULL, NULL, issuer_key, NULL) != 1) goto done;
    EVP_PKEY_CTX *pctx = EVP_MD_CTX_get_pkey_ctx(ctx);
    if (pctx == NULL || EVP_PKEY_CTX_set1_id(pctx, GM_NN(id), idlen) != 1) goto done;
    /* X509_sign_ctx writes the AlgorithmIdentifier that the SM2 provider gives: 1.2.156.10197.1.501. */
    if (X509_sign_ctx(cert, ctx) <= 0) goto done;
    unsigned char *out = NULL;
    int n = i2d_X509(cert, &out);
    if (n <= 0 || out == NULL) goto done;
    *der = out;
    *derlen = (size_t)n;
    rc = GM_OK;
done:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* ---- reading ---- */

int gm_pem_certificate_to_der(const char *pem, size_t len, uint8_t **der, size_t *derlen) {
    if (pem == NULL || len == 0 || len > INT_MAX || der == NULL || derlen == NULL) return GM_ERR_PARSE;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL) return GM_ERR_OPENSSL;
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long n = 0;
    int rc = GM_ERR_PARSE;
    /* Skip any block that is not a certificate (a key, parameters) until the first one. */
    while (PEM_read_bio(bio, &name, &header, &data, &n) == 1) {
        int is_cert = strcmp(name, PEM_STRING_X509) == 0 || strcmp(name, PEM_STRING_X509_OLD) == 0;
        OPENSSL_free(name);
        OPENSSL_free(header);
        name = header = NULL;
        if (is_cert && n > 0) {
            *der = data;
            *derlen = (size_t)n;
            rc = GM_OK;
            break;
        }
        OPENSSL_free(data);
        data = NULL;
    }
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}

int gm_der_certificate_to_pem(const uint8_t *der, size_t len, char **pem, size_t *pemlen) {
    if (pem == NULL || pemlen == NULL) return GM_ERR_ARGUMENT;
    X509 *cert = gm_parse_certificate(der, len);
    if (cert == NULL) return GM_ERR_PARSE;
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = GM_ERR_OPENSSL;
    if (bio != NULL && PEM_write_bio_X509(bio, cert) == 1) rc = gm_bio_to_buffer(bio, pem, pemlen);
    BIO_free(bio);
    X509_free(cert);
    return rc;
}

static int seconds_since_epoch(const ASN1_TIME *t, int64_t *out) {
    int days = 0, secs = 0;
    ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
    int ok = epoch != NULL && ASN1_TIME_diff(&days, &secs, epoch, t) == 1;
    ASN1_TIME_free(epoch);
    if (ok) *out = (int64_t)days * 86400 + secs;
    return ok;
}

int gm_certificate_info(const uint8_t *der, size_t len, gm_cert_info *info) {
    if (info == NULL) return GM_ERR_ARGUMENT;
    memset(info, 0, sizeof(*info));
    X509 *cert = gm_parse_certificate(der, len);
    if (cert == NULL) return GM_ERR_PARSE;
    int rc = GM_ERR_PARSE;
    info->version = (int)X509_get_version(cert) + 1;
    if (!seconds_since_epoch(X509_get0_notBefore(cert), &info->not_before) ||
        !seconds_since_epoch(X509_get0_notAfter(cert), &info->not_after))
        goto done;
    uint32_t flags = X509_get_extension_flags(cert);
    /* EXFLAG_INVALID: an extension that does not decode, or one that appears twice. */
    if (flags & EXFLAG_INVALID) goto done;
    info->has_basic_constraints = (flags & EXFLAG_BCONS) != 0;
    info->is_ca = (flags & EXFLAG_CA) != 0 && info->has_basic_constraints;
    info->path_length = X509_get_pathlen(cert);
    info->has_key_usage = (flags & EXFLAG_KUSAGE) != 0;
    info->key_usage = info->has_key_usage ? X509_get_key_usage(cert) : 0;
    info->sm2_with_sm3 = X509_get_signature_nid(cert) == NID_SM2_with_SM3;
    EVP_PKEY *key = X509_get0_pubkey(cert);
    if (key != NULL) {
        int error = 0;
        EVP_PKEY *sm2 = gm_as_sm2(key, &error);
        if (sm2 != NULL) {
            info->sm2_key = gm_point_of(sm2, info->public_point);
            EVP_PKEY_free(sm2);
        }
    }
    rc = GM_OK;
done:
    X509_free(cert);
    ERR_clear_error();
    return rc;
}

int gm_certificate_name_entry(const uint8_t *der, size_t len, int issuer, const char *field, char **out,
                              size_t *outlen) {
    if (field == NULL || out == NULL || outlen == NULL) return GM_ERR_ARGUMENT;
    *out = NULL;
    *outlen = 0;
    int nid = OBJ_txt2nid(field);
    if (nid == NID_undef) return GM_ERR_ARGUMENT;
    X509 *cert = gm_parse_certificate(der, len);
    if (cert == NULL) return GM_ERR_PARSE;
    int rc = GM_OK;
    X509_NAME *name = issuer ? X509_get_issuer_name(cert) : X509_get_subject_name(cert);
    int index = X509_NAME_get_index_by_NID(name, nid, -1);
    if (index >= 0) {
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
        if (n < 0) {
            rc = GM_ERR_PARSE;
        } else {
            *out = (char *)utf8;
            *outlen = (size_t)n;
        }
    }
    X509_free(cert);
    ERR_clear_error();
    return rc;
}

int gm_certificate_name_text(const uint8_t *der, size_t len, int issuer, char **out, size_t *outlen) {
    if (out == NULL || outlen == NULL) return GM_ERR_ARGUMENT;
    X509 *cert = gm_parse_certificate(der, len);
    if (cert == NULL) return GM_ERR_PARSE;
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = GM_ERR_OPENSSL;
    X509_NAME *name = issuer ? X509_get_issuer_name(cert) : X509_get_subject_name(cert);
    if (bio != NULL && X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        if (BIO_pending(bio) == 0) {
            *out = OPENSSL_zalloc(1);
            *outlen = 0;
            rc = *out != NULL ? GM_OK : GM_ERR_OPENSSL;
        } else {
            rc = gm_bio_to_buffer(bio, out, outlen);
        }
    }
    BIO_free(bio);
    X509_free(cert);
    return rc;
}

int gm_certificate_serial(const uint8_t *der, size_t len, uint8_t **out, size_t *outlen) {
    if (out == NULL || outlen == NULL) return GM_ERR_ARGUMENT;
    X509 *cert = gm_parse_certificate(der, len);
    if (cert == NULL) return GM_ERR_PARSE;
    int rc = GM_ERR_OPENSSL;
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    if (bn != NULL) {
        int n = BN_num_bytes(bn);
        uint8_t *buf = OPENSSL_malloc(n > 0 ? (size_t)n : 1);
        if (buf != NULL) {
            BN_bn2bin(bn, buf);
            *out = buf;
            *outlen = (size_t)n;
            rc = GM_OK;
        }
    }
    BN_free(bn);
    X509_free(cert);
    return rc;
}

/* Appends one record (kind, 2-byte length, text) to buf. */
static int append_record(uint8_t **buf, size_t *used, size_t *cap, uint8_t kind, const char *text, size_t len) {
    if (len > 0xffff) return 0;
    if (*used + 3 + len > *cap) {
        size_t ncap = (*cap + 3 + len) * 2;
        uint8_t *nbuf = OPENSSL_realloc(*buf, ncap);
        if (nbuf == NULL) return 0;
        *buf = nbuf;
        *cap = ncap;
    }
    (*buf)[*used] = kind;
    (*buf)[*used + 1] = (uint8_t)(len >> 8);
    (*buf)[*used + 2] = (uint8_t)(len & 0xff);
    memcpy(*buf + *used + 3, text, len);
    *used += 3 + len;
    return 1;
}

int gm_certificate_sans(const uint8_t *der, size_t len, uint8_t **out, size_t *outlen) {
    if (out == NULL || outlen == NULL) return GM_ERR_ARGUMENT;
    X509 *cert = gm_parse_certificate(der, len);
    if (cert == NULL) return GM_ERR_PARSE;
    int critical = 0;
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, &critical, NULL);
    int rc = GM_OK;
    size_t used = 0, cap = 64;
    uint8_t *buf = OPENSSL_malloc(cap);
    if (buf == NULL) rc = GM_ERR_OPENSSL;
    if (names == NULL && critical != -1) rc = GM_ERR_PARSE; /* present but malformed, or twice */
    for (int i = 0; rc == GM_OK && names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type == GEN_DNS) {
            const ASN1_IA5STRING *s = gn->d.dNSName;
            if (!append_record(&buf, &used, &cap, 'D', (const char *)ASN1_STRING_get0_data(s),
                               (size_t)ASN1_STRING_length(s)))
                rc = GM_ERR_OPENSSL;
        } else if (gn->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *ip = gn->d.iPAddress;
            char text[INET6_ADDRSTRLEN];
            int n = ASN1_STRING_length(ip);
            int family = n == 4 ? AF_INET : (n == 16 ? AF_INET6 : 0);
            if (family == 0 || inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof(text)) == NULL) {
                rc = GM_ERR_PARSE;
            } else if (!append_record(&buf, &used, &cap, 'I', text, strlen(text))) {
                rc = GM_ERR_OPENSSL;
            }
        }
    }
    GENERAL_NAMES_free(names);
    X509_free(cert);
    ERR_clear_error();
    if (rc != GM_OK) {
        OPENSSL_free(buf);
        return rc;
    }
    *out = buf;
    *outlen = used;
    return GM_OK;
}

int gm_certificate_verify_issued_by(const uint8_t *der, size_t len, const uint8_t *issuer_der, size_t issuer_len,
                                    const uint8_t *id, size_t idlen) {
    if (idlen > GM_SM2_MAX_ID) return GM_ERR_ARGUMENT;
    X509 *cert = gm_parse_certificate(der, len);
    X509 *issuer = gm_parse_certificate(issuer_der, issuer_len);
    EVP_PKEY *key = NULL;
    int rc = GM_ERR_PARSE;
    if (cert == NULL || issuer == NULL) goto done;
    rc = GM_ERR_ALGORITHM;
    if (X509_get_signature_nid(cert) != NID_SM2_with_SM3) goto done;
    rc = GM_ERR_NOT_SM2;
    EVP_PKEY *issuer_key = X509_get0_pubkey(issuer);
    if (issuer_key == NULL || (key = gm_as_sm2(issuer_key, NULL)) == NULL) goto done;
    /* Names, key identifiers and the issuer's keyUsage (keyCertSign when present). */
    rc = GM_ERR_NOT_ISSUER;
    if (X509_check_issued(issuer, cert) != X509_V_OK) goto done;
    rc = GM_ERR_OPENSSL;
    if (!gm_set_distinguishing_id(cert, id, idlen)) goto done;
    rc = X509_verify(cert, key) == 1 ? GM_OK : GM_ERR_BAD_SIGNATURE;
done:
    EVP_PKEY_free(key);
    X509_free(cert);
    X509_free(issuer);
    ERR_clear_error();
    return rc;
}

int gm_certificate_verify_signature(const uint8_t *der, size_t len, gm_pkey *key, const uint8_t *id, size_t idlen) {
    if (key == NULL || idlen > GM_SM2_MAX_ID) return 0;
    X509 *cert = gm_parse_certificate(der, len);
    int ok = 0;
    if (cert != NULL && X509_get_signature_nid(cert) == NID_SM2_with_SM3 && EVP_PKEY_is_a(key, "SM2") &&
        gm_set_distinguishing_id(cert, id, idlen))
        ok = X509_verify(cert, key) == 1;
    X509_free(cert);
    ERR_clear_error();
    return ok;
}

int gm_certificate_ed25519_key(const uint8_t *der, size_t len, uint8_t *out) {
    X509 *cert = gm_parse_certificate(der, len);
    if (cert == NULL) return GM_ERR_PARSE;
    int rc = GM_ERR_ALGORITHM;
    EVP_PKEY *key = X509_get0_pubkey(cert);
    size_t n = 32;
    if (key != NULL && EVP_PKEY_is_a(key, "ED25519") && EVP_PKEY_get_raw_public_key(key, out, &n) == 1 && n == 32)
        rc = GM_OK;
    X509_free(cert);
    ERR_clear_error();
    return rc;
}

/* ---- chains ---- */

struct gm_chain {
    X509_STORE *store;
    STACK_OF(X509) *untrusted;
    uint8_t *id;
    size_t idlen;
};

gm_chain *gm_chain_new(const uint8_t *id, size_t idlen) {
    if (idlen > GM_SM2_MAX_ID) return NULL;
    gm_chain *c = OPENSSL_zalloc(sizeof(*c));
    if (c == NULL) return NULL;
    c->store = X509_STORE_new();
    c->untrusted = sk_X509_new_null();
    c->id = OPENSSL_memdup(GM_NN(id), idlen > 0 ? idlen : 1);
    c->idlen = idlen;
    if (c->store == NULL || c->untrusted == NULL || c->id == NULL) {
        gm_chain_free(c);
        return NULL;
    }
    return c;
}

int gm_chain_add(gm_chain *chain, int trusted, const uint8_t *der, size_t len) {
    if (chain == NULL) return GM_ERR_ARGUMENT;
    X509 *cert = gm_parse_certificate(der, len);
    if (cert == NULL) return GM_ERR_PARSE;
    /* OpenSSL 3.0 verifies each certificate's signature with that certificate's own
     * distinguishing id, and the default is an empty id: set it on every object. */
    if (!gm_set_distinguishing_id(cert, chain->id, chain->idlen)) {
        X509_free(cert);
        return GM_ERR_OPENSSL;
    }
    int ok;
    if (trusted) {
        ok = X509_STORE_add_cert(chain->store, cert) == 1; /* the store takes its own reference */
        X509_free(cert);
    } else {
        ok = sk_X509_push(chain->untrusted, cert) > 0;
        if (!ok) X509_free(cert);
    }
    ERR_clear_error();
    return ok ? GM_OK : GM_ERR_OPENSSL;
}

int gm_chain_verify(gm_chain *chain, const uint8_t *leaf_der, size_t len, int64_t at, int *x509_error, int *depth) {
    if (chain == NULL || x509_error == NULL || depth == NULL) return GM_ERR_ARGUMENT;
    *x509_error = X509_V_OK;
    *depth = 0;
    X509 *leaf = gm_parse_certificate(leaf_der, len);
    if (leaf == NULL) return GM_ERR_PARSE;
    int rc = GM_ERR_OPENSSL;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx == NULL || !gm_set_distinguishing_id(leaf, chain->id, chain->idlen)) goto done;
    if (X509_STORE_CTX_init(ctx, chain->store, leaf, chain->untrusted) != 1) goto done;
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, (time_t)at);
    /* Strict RFC 5280 checks, and the root's self-signature is checked too. */
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT | X509_V_FLAG_CHECK_SS_SIGNATURE);
    if (X509_verify_cert(ctx) == 1) {
        rc = GM_OK;
    } else {
        *x509_error = X509_STORE_CTX_get_error(ctx);
        *depth = X509_STORE_CTX_get_error_depth(ctx);
        rc = GM_ERR_CHAIN;
    }
done:
    X509_STORE_CTX_free(ctx);
    X509_free(leaf);
    ERR_clear_error();
    return rc;
}

const char *gm_x509_error_text(int x509_error) { return X509_verify_cert_error_string(x509_error); }

int gm_x509_error_class(int x509_error) {
    switch (x509_error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return GM_CHAIN_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return GM_CHAIN_NOT_YET_VALID;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
        return GM_CHAIN_BAD_SIGNATURE;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return GM_CHAIN_UNKNOWN_ISSUER;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
        return GM_CHAIN_UNTRUSTED_ROOT;
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
        return GM_CHAIN_INVALID_CA;
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
        return GM_CHAIN_PATH_LENGTH;
    case X509_V_ERR_INVALID_EXTENSION:
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
        return GM_CHAIN_BAD_EXTENSIONS;
    default:
        return GM_CHAIN_OTHER;
    }
}

void gm_chain_free(gm_chain *chain) {
    if (chain == NULL) return;
    X509_STORE_free(chain->store);
    sk_X509_pop_free(chain->untrusted, X509_free);
    OPENSSL_free(chain->id);
    OPENSSL_free(chain);
}
