#ifndef GM_INTERNAL_H
#define GM_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "include/gm_shim.h"

/* A non-NULL pointer for (NULL, 0) inputs: some OpenSSL calls refuse a NULL buffer. */
extern const uint8_t gm_empty[1];
#define GM_NN(p) ((p) != NULL ? (const void *)(p) : (const void *)gm_empty)

/* Answers an SM2-typed key for key: the same key (up-referenced) when it is already of type
 * SM2, a rebuilt SM2 key when it is an EC key on the SM2 curve, NULL otherwise. */
EVP_PKEY *gm_as_sm2(EVP_PKEY *key, int *error);

/* Writes 04||x||y of an EC or SM2 key; 1 on success. */
int gm_point_of(EVP_PKEY *key, uint8_t out[65]);

/* Parses a DER certificate, refusing trailing bytes. */
X509 *gm_parse_certificate(const uint8_t *der, size_t len);

/* Sets the SM2 distinguishing id on a certificate object, used when its own signature is
 * verified (X509_verify, X509_verify_cert). */
int gm_set_distinguishing_id(X509 *cert, const uint8_t *id, size_t idlen);

/* Copies a memory BIO's contents into a fresh NUL-terminated buffer. */
int gm_bio_to_buffer(BIO *bio, char **out, size_t *outlen);

#endif
