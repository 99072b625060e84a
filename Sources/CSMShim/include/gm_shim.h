#ifndef GM_SHIM_H
#define GM_SHIM_H

/*
 * Plain C functions over OpenSSL 3's EVP API for the Chinese commercial algorithms:
 * SM2 (GB/T 32918), SM3 (GB/T 32905), SM4 (GB/T 32907), HMAC-SM3, HKDF-SM3 and X.509
 * certificates signed with SM2-with-SM3.
 *
 * Conventions:
 *  - Functions returning int answer GM_OK (1) on success and a negative GM_ERR_* code on
 *    failure; verification functions answer 1 (valid) or 0 (not valid), never anything else.
 *  - Functions returning a pointer answer NULL on failure.
 *  - After a failure, gm_error_string() tells what OpenSSL said and empties its error queue.
 *  - Buffers that the shim allocates (char ** / uint8_t ** out-parameters) are freed with
 *    gm_free().
 *  - Every (pointer, length) pair accepts (NULL, 0).
 *  - No function keeps a pointer to its inputs after it returns.
 *
 * This header names no OpenSSL header, so the Swift module that imports it sees only these
 * functions; the OpenSSL types are opaque here.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An SM2 key (EVP_PKEY), public or private. */
typedef struct evp_pkey_st gm_pkey;
/** A digest or digest-verify context (EVP_MD_CTX). */
typedef struct evp_md_ctx_st gm_md_ctx;
/** A certificate builder (see gm_cert_builder_*). */
typedef struct gm_cert_builder gm_cert_builder;
/** A set of trusted and intermediate certificates for chain verification. */
typedef struct gm_chain gm_chain;

/** Success. */
#define GM_OK 1
/** OpenSSL failed; gm_error_string() says why. */
#define GM_ERR_OPENSSL (-1)
/** An argument has the wrong length or is out of range. */
#define GM_ERR_ARGUMENT (-2)
/** The input does not parse (bad DER, PEM, point or scalar). */
#define GM_ERR_PARSE (-3)
/** The key or certificate is not of the SM2 algorithm. */
#define GM_ERR_NOT_SM2 (-4)
/** The issuer key does not belong to the issuer certificate. */
#define GM_ERR_KEY_MISMATCH (-5)
/** The certificate's issuer name or key identifier does not match the issuer certificate. */
#define GM_ERR_NOT_ISSUER (-6)
/** The certificate's signature does not verify. */
#define GM_ERR_BAD_SIGNATURE (-7)
/** The certificate is not signed with SM2-with-SM3. */
#define GM_ERR_ALGORITHM (-8)
/** The certificate chain does not verify; the X509_V_ERR_* code tells why. */
#define GM_ERR_CHAIN (-9)

/** Largest DER SM2 signature: SEQUENCE { INTEGER(33), INTEGER(33) }. */
#define GM_SM2_MAX_SIGNATURE 72
/** Longest SM2 user id OpenSSL 3.0 accepts: ENTL is a 16-bit count of bits, and OpenSSL
 *  refuses id_len >= UINT16_MAX / 8. */
#define GM_SM2_MAX_ID 8190

/* ---- errors, memory, randomness ---- */

/** Writes the last OpenSSL error as text into buf (NUL-terminated), empties the error queue,
 *  and answers the length written (0 when the queue was empty). */
size_t gm_error_string(char *buf, size_t len);
/** Empties OpenSSL's error queue of this thread. */
void gm_clear_errors(void);
/** Frees a buffer that the shim allocated. */
void gm_free(void *ptr);
/** Overwrites then frees a buffer of len bytes that the shim allocated (private key PEM). */
void gm_clear_free(void *ptr, size_t len);
/** Fills out with len bytes from OpenSSL's CSPRNG. */
int gm_random_bytes(uint8_t *out, size_t len);
/** Compares two buffers in time independent of their contents; 1 when equal. */
int gm_constant_time_equal(const uint8_t *a, const uint8_t *b, size_t len);
/** The OpenSSL version text, for logs. */
const char *gm_openssl_version(void);

/* ---- digests ---- */

/** One-shot digest by OpenSSL name ("SM3", "SHA256"); out must hold 64 bytes. */
int gm_digest(const char *name, const uint8_t *data, size_t len, uint8_t *out, size_t *outlen);
/** A new incremental SM3 context, or NULL. */
gm_md_ctx *gm_sm3_new(void);
/** Absorbs data into an incremental digest. */
int gm_md_update(gm_md_ctx *ctx, const uint8_t *data, size_t len);
/** Finishes an incremental SM3 digest into out (32 bytes); the context can't be updated after. */
int gm_md_final(gm_md_ctx *ctx, uint8_t *out);
/** A copy of an incremental digest context, or NULL. */
gm_md_ctx *gm_md_copy(const gm_md_ctx *ctx);
/** Frees a digest context (NULL is fine). */
void gm_md_free(gm_md_ctx *ctx);
/** HMAC-SM3 (RFC 2104 with SM3) of data under key into out (32 bytes). */
int gm_hmac_sm3(const uint8_t *key, size_t keylen, const uint8_t *data, size_t len, uint8_t *out);
/** HKDF (RFC 5869) with SM3: extract from ikm and salt, expand with info into out. */
int gm_hkdf_sm3(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt, size_t saltlen,
                const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen);

/* ---- SM4 ---- */

/** SM4-CBC with PKCS#7 padding. encrypt: 1 to encrypt, 0 to decrypt. key and iv are 16 bytes.
 *  out must hold inlen + 16 bytes; *outlen receives the length written. */
int gm_sm4_cbc(int encrypt, const uint8_t *key, const uint8_t *iv, const uint8_t *in, size_t inlen,
               uint8_t *out, size_t *outlen);
/** SM4-CTR (the 16-byte iv is the initial counter block, incremented as a 128-bit big-endian
 *  number). Encrypts and decrypts alike; out must hold inlen bytes. */
int gm_sm4_ctr(const uint8_t *key, const uint8_t *iv, const uint8_t *in, size_t inlen, uint8_t *out);

/* ---- SM2 keys ---- */

/** A fresh SM2 key pair, or NULL. */
gm_pkey *gm_sm2_generate(void);
/** An SM2 private key from its 32-byte big-endian scalar d, 1 <= d <= n-2; the public point is
 *  computed. NULL (and *error set) when the scalar is out of range. */
gm_pkey *gm_sm2_private_from_scalar(const uint8_t *d, size_t len, int *error);
/** An SM2 public key from its 65-byte uncompressed point 04||x||y; the point must lie on the
 *  curve and not be the point at infinity. */
gm_pkey *gm_sm2_public_from_point(const uint8_t *point, size_t len, int *error);
/** An SM2 private key from PEM: PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY" on the SM2 curve.
 *  Encrypted PEM is refused (no passphrase prompt). */
gm_pkey *gm_sm2_private_from_pem(const char *pem, size_t len, int *error);
/** An SM2 public key from a SubjectPublicKeyInfo in DER. */
gm_pkey *gm_sm2_public_from_der(const uint8_t *der, size_t len, int *error);
/** An SM2 public key from a SubjectPublicKeyInfo in PEM ("PUBLIC KEY"). */
gm_pkey *gm_sm2_public_from_pem(const char *pem, size_t len, int *error);
/** Writes the 32-byte private scalar. */
int gm_sm2_private_scalar(gm_pkey *key, uint8_t *out);
/** Writes the 65-byte uncompressed public point. */
int gm_sm2_public_point(gm_pkey *key, uint8_t *out);
/** PKCS#8 PEM ("PRIVATE KEY") of a private key; free *out with gm_free. */
int gm_sm2_private_to_pem(gm_pkey *key, char **out, size_t *outlen);
/** SubjectPublicKeyInfo DER of a key; free *out with gm_free. */
int gm_sm2_public_to_der(gm_pkey *key, uint8_t **out, size_t *outlen);
/** SubjectPublicKeyInfo PEM ("PUBLIC KEY") of a key; free *out with gm_free. */
int gm_sm2_public_to_pem(gm_pkey *key, char **out, size_t *outlen);
/** An Ed25519 public key from its 32 raw bytes (for the subject of a TLS transport certificate
 *  that an SM2 key certifies), or NULL. */
gm_pkey *gm_ed25519_public_from_raw(const uint8_t *raw, size_t len);
/** Frees a key (NULL is fine). */
void gm_pkey_free(gm_pkey *key);

/* ---- SM2 signatures (SM3 digest, Z value from the user id) ---- */

/** Signs msg: e = SM3(Z || msg) with Z from id and the public key; writes the DER
 *  SEQUENCE { r, s } into sig (GM_SM2_MAX_SIGNATURE bytes) and its length into *siglen. */
int gm_sm2_sign(gm_pkey *key, const uint8_t *id, size_t idlen, const uint8_t *msg, size_t msglen,
                uint8_t *sig, size_t *siglen);
/** Verifies a DER signature over msg with the user id; 1 when valid, 0 otherwise (bad DER,
 *  trailing bytes, r or s out of range, wrong id, wrong key, any internal failure). */
int gm_sm2_verify(gm_pkey *key, const uint8_t *id, size_t idlen, const uint8_t *msg, size_t msglen,
                  const uint8_t *sig, size_t siglen);
/** A digest-verify context for key and id with the Z value already absorbed: the prototype
 *  that gm_sm2_verify_with_prototype copies, so Z is computed once per key and id. */
gm_md_ctx *gm_sm2_verify_prototype(gm_pkey *key, const uint8_t *id, size_t idlen);
/** A new empty context, to be reused as the work context of gm_sm2_verify_with_prototype. */
gm_md_ctx *gm_md_ctx_new(void);
/** Copies the prototype into work, reusing work's allocation. The prototype is only read. */
int gm_md_copy_into(gm_md_ctx *work, const gm_md_ctx *prototype);
/** Finishes a verification on a work context filled by gm_md_copy_into: absorbs msg and checks
 *  the DER signature; 1 when valid, 0 otherwise. */
int gm_sm2_verify_continue(gm_md_ctx *work, const uint8_t *msg, size_t msglen, const uint8_t *sig, size_t siglen);
/** gm_md_copy_into then gm_sm2_verify_continue; 1 when valid, 0 otherwise. */
int gm_sm2_verify_with_prototype(const gm_md_ctx *prototype, gm_md_ctx *work, const uint8_t *msg,
                                 size_t msglen, const uint8_t *sig, size_t siglen);

/* ---- X.509: building ---- */

/** A new certificate builder (X.509 v3), or NULL. */
gm_cert_builder *gm_cert_builder_new(void);
/** Frees a builder (NULL is fine). */
void gm_cert_builder_free(gm_cert_builder *b);
/** Sets the serial number (big-endian, positive: the first byte below 0x80, not all zero). */
int gm_cert_builder_set_serial(gm_cert_builder *b, const uint8_t *serial, size_t len);
/** Sets notBefore and notAfter (seconds since 1970, UTC). */
int gm_cert_builder_set_validity(gm_cert_builder *b, int64_t not_before, int64_t not_after);
/** Appends a subject attribute ("C", "O", "OU", "CN", ...) as a UTF8String. */
int gm_cert_builder_add_subject(gm_cert_builder *b, const char *field, const uint8_t *utf8, size_t len);
/** Sets the subject public key (an SM2 key, or an Ed25519 key). */
int gm_cert_builder_set_public_key(gm_cert_builder *b, gm_pkey *key);
/** Sets the issuer certificate (DER). Without it the certificate is self-signed. */
int gm_cert_builder_set_issuer(gm_cert_builder *b, const uint8_t *der, size_t len);
/** Queues an extension in OpenSSL's configuration syntax, e.g. ("basicConstraints",
 *  "critical,CA:TRUE,pathlen:0"); applied when signing, once issuer and subject are known. */
int gm_cert_builder_add_extension(gm_cert_builder *b, const char *name, const char *value);
/** Signs with the issuer's SM2 key (SM2-with-SM3, user id id) and writes the DER certificate;
 *  free *der with gm_free. */
int gm_cert_builder_sign(gm_cert_builder *b, gm_pkey *issuer_key, const uint8_t *id, size_t idlen,
                         uint8_t **der, size_t *derlen);

/* ---- X.509: reading ---- */

/** The DER of the first "CERTIFICATE" block of a PEM text; free *der with gm_free. */
int gm_pem_certificate_to_der(const char *pem, size_t len, uint8_t **der, size_t *derlen);
/** The PEM text of a DER certificate; free *pem with gm_free. */
int gm_der_certificate_to_pem(const uint8_t *der, size_t len, char **pem, size_t *pemlen);

/** What gm_certificate_info reads out of a certificate. */
typedef struct {
    /** X.509 version number (1 to 3). */
    int version;
    /** notBefore and notAfter, seconds since 1970 UTC. */
    int64_t not_before;
    int64_t not_after;
    /** 1 when the basicConstraints extension is present, and then whether CA and the path
     *  length (-1 when absent). */
    int has_basic_constraints;
    int is_ca;
    long path_length;
    /** 1 when keyUsage is present, and then its bits (X509v3 KU_* values). */
    int has_key_usage;
    uint32_t key_usage;
    /** 1 when the signature algorithm is SM2-with-SM3 (1.2.156.10197.1.501). */
    int sm2_with_sm3;
    /** 1 when the subject key is an SM2 key (id-ecPublicKey on curve 1.2.156.10197.1.301). */
    int sm2_key;
    /** The public point (65 bytes) when sm2_key. */
    uint8_t public_point[65];
} gm_cert_info;

/** Parses a DER certificate (trailing bytes refused) and fills info. */
int gm_certificate_info(const uint8_t *der, size_t len, gm_cert_info *info);
/** The UTF-8 text of the first subject (issuer = 0) or issuer (issuer = 1) attribute named
 *  field ("O", "OU", "CN", ...); *out is NULL when absent. Free *out with gm_free. */
int gm_certificate_name_entry(const uint8_t *der, size_t len, int issuer, const char *field, char **out,
                              size_t *outlen);
/** The one-line RFC 2253 text of the subject (issuer = 0) or issuer (issuer = 1) name. */
int gm_certificate_name_text(const uint8_t *der, size_t len, int issuer, char **out, size_t *outlen);
/** The serial number, big-endian; free *out with gm_free. */
int gm_certificate_serial(const uint8_t *der, size_t len, uint8_t **out, size_t *outlen);
/** The subject alternative names, as records of kind (1 byte: 'D' for a DNS name, 'I' for an
 *  IP address in text), length (2 bytes, big-endian) and text. Free *out with gm_free. */
int gm_certificate_sans(const uint8_t *der, size_t len, uint8_t **out, size_t *outlen);
/** Checks that the certificate der was issued by the certificate issuer_der: names and key
 *  identifiers match (X509_check_issued) and the SM2-with-SM3 signature verifies under the
 *  issuer's key with user id id. GM_OK, or GM_ERR_NOT_ISSUER, GM_ERR_BAD_SIGNATURE,
 *  GM_ERR_ALGORITHM, GM_ERR_NOT_SM2, GM_ERR_PARSE. */
int gm_certificate_verify_issued_by(const uint8_t *der, size_t len, const uint8_t *issuer_der,
                                    size_t issuer_len, const uint8_t *id, size_t idlen);

/** Whether the certificate der carries a valid SM2-with-SM3 signature by key (an SM2 key) with
 *  user id id, whatever its subject key and issuer name: for certificates that an end entity's
 *  key certifies (TLS transport certificates). 1 when valid, 0 otherwise. */
int gm_certificate_verify_signature(const uint8_t *der, size_t len, gm_pkey *key, const uint8_t *id, size_t idlen);
/** The 32 raw bytes of the certificate's subject key when it is an Ed25519 key; GM_OK,
 *  GM_ERR_PARSE or GM_ERR_ALGORITHM. */
int gm_certificate_ed25519_key(const uint8_t *der, size_t len, uint8_t *out);

/* ---- X.509: chain verification ---- */

/** A new, empty set of certificates whose signatures are checked with user id id. */
gm_chain *gm_chain_new(const uint8_t *id, size_t idlen);
/** Adds a trusted root (trusted = 1) or an untrusted intermediate (trusted = 0), DER. */
int gm_chain_add(gm_chain *chain, int trusted, const uint8_t *der, size_t len);
/** Verifies leaf against the set at time at (seconds since 1970): builds the path, checks
 *  every signature (the root's self-signature too), validity window and CA constraints.
 *  GM_OK, or GM_ERR_CHAIN with *x509_error (X509_V_ERR_*) and *depth set. */
int gm_chain_verify(gm_chain *chain, const uint8_t *leaf, size_t len, int64_t at, int *x509_error,
                    int *depth);
/** The text of an X509_V_ERR_* code. */
const char *gm_x509_error_text(int x509_error);

/** Classes of chain errors, for stable error codes. */
#define GM_CHAIN_OTHER 0
#define GM_CHAIN_EXPIRED 1
#define GM_CHAIN_NOT_YET_VALID 2
#define GM_CHAIN_BAD_SIGNATURE 3
#define GM_CHAIN_UNKNOWN_ISSUER 4
#define GM_CHAIN_UNTRUSTED_ROOT 5
#define GM_CHAIN_INVALID_CA 6
#define GM_CHAIN_PATH_LENGTH 7
#define GM_CHAIN_BAD_EXTENSIONS 8
/** The GM_CHAIN_* class of an X509_V_ERR_* code. */
int gm_x509_error_class(int x509_error);
/** Frees a chain set (NULL is fine). */
void gm_chain_free(gm_chain *chain);

#ifdef __cplusplus
}
#endif

#endif
