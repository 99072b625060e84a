// Ed25519 verification, single and in batches, under the cofactored rule of xc_ed25519.h.
//
// Field elements of GF(2^255 − 19) in five limbs of 51 bits; points of the twisted Edwards curve
// −x² + y² = 1 + d·x²·y² in extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, T = XY/Z
// (Hisil, Wong, Carter, Dawson 2008: addition "add-2008-hwcd-3" and doubling "dbl-2008-hwcd" for
// a = −1). A sum Σ sᵢ·Pᵢ is computed by Straus's method with a signed sliding window per point
// (odd multiples up to 15·P), the doublings shared by all points. SHA-512, the random weights
// and the arithmetic modulo the group order L come from libsodium. Everything here runs on
// public data (signatures, keys, messages), so nothing needs to run in constant time.
//
// The constants d, 2d and √−1 are computed at initialisation from their definitions
// (d = −121665/121666, √−1 = 2^((p−1)/4)) and checked, as is the base point's decoding.
#include "xc_ed25519.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;
typedef struct {
    uint64_t v[5];
} fe;

#define MASK51 ((uint64_t)0x7ffffffffffffULL)

static void fe_0(fe *h) { memset(h, 0, sizeof *h); }
static void fe_1(fe *h) {
    fe_0(h);
    h->v[0] = 1;
}

// Carries so that every limb is below 2^51 (plus at most 19·2^13 in limb 0).
static inline __attribute__((always_inline)) void fe_carry(fe *h) {
    uint64_t c;
    c = h->v[0] >> 51; h->v[0] &= MASK51; h->v[1] += c;
    c = h->v[1] >> 51; h->v[1] &= MASK51; h->v[2] += c;
    c = h->v[2] >> 51; h->v[2] &= MASK51; h->v[3] += c;
    c = h->v[3] >> 51; h->v[3] &= MASK51; h->v[4] += c;
    c = h->v[4] >> 51; h->v[4] &= MASK51; h->v[0] += c * 19;
    c = h->v[0] >> 51; h->v[0] &= MASK51; h->v[1] += c;
}

// Not carried: with carried inputs (limbs below 2^52) the limbs stay below 2^53, which fe_mul,
// fe_sq and fe_tobytes take, but fe_sub does not take as its second argument.
static inline __attribute__((always_inline)) void fe_add(fe *h, const fe *f, const fe *g) {
    for (int i = 0; i < 5; i++) h->v[i] = f->v[i] + g->v[i];
}

// f − g + 4p, limb by limb, then carried: f's limbs below 2^62, g's carried (below 2^52).
static inline __attribute__((always_inline)) void fe_sub(fe *h, const fe *f, const fe *g) {
    h->v[0] = (f->v[0] + 0x1fffffffffffb4ULL) - g->v[0];
    h->v[1] = (f->v[1] + 0x1ffffffffffffcULL) - g->v[1];
    h->v[2] = (f->v[2] + 0x1ffffffffffffcULL) - g->v[2];
    h->v[3] = (f->v[3] + 0x1ffffffffffffcULL) - g->v[3];
    h->v[4] = (f->v[4] + 0x1ffffffffffffcULL) - g->v[4];
    fe_carry(h);
}

static void fe_neg(fe *h, const fe *f) {
    fe z;
    fe_0(&z);
    fe_sub(h, &z, f);
}

// Carries the five column sums of a product (each below 2^115) into a carried element.
static inline __attribute__((always_inline)) void fe_reduce128(fe *h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) {
    uint64_t c;
    r1 += (uint64_t)(r0 >> 51); uint64_t h0 = (uint64_t)r0 & MASK51;
    r2 += (uint64_t)(r1 >> 51); uint64_t h1 = (uint64_t)r1 & MASK51;
    r3 += (uint64_t)(r2 >> 51); uint64_t h2 = (uint64_t)r2 & MASK51;
    r4 += (uint64_t)(r3 >> 51); uint64_t h3 = (uint64_t)r3 & MASK51;
    c = (uint64_t)(r4 >> 51); uint64_t h4 = (uint64_t)r4 & MASK51;
    u128 w = (u128)c * 19 + h0;  // c < 2^63 for inputs below 2^53
    h0 = (uint64_t)w & MASK51;
    h1 += (uint64_t)(w >> 51);
    h->v[0] = h0; h->v[1] = h1; h->v[2] = h2; h->v[3] = h3; h->v[4] = h4;
}

static inline __attribute__((always_inline)) void fe_mul(fe *h, const fe *f, const fe *g) {
    const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    const uint64_t g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
    const uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
    u128 r0 = (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
    u128 r1 = (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
    u128 r2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19;
    u128 r3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
    u128 r4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
    fe_reduce128(h, r0, r1, r2, r3, r4);
}

static inline __attribute__((always_inline)) void fe_sq(fe *h, const fe *f) {
    const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    const uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f1_38 = 38 * f1, f2_38 = 38 * f2, f3_38 = 38 * f3;
    const uint64_t f3_19 = 19 * f3, f4_19 = 19 * f4;
    u128 r0 = (u128)f0 * f0 + (u128)f1_38 * f4 + (u128)f2_38 * f3;
    u128 r1 = (u128)f0_2 * f1 + (u128)f2_38 * f4 + (u128)f3_19 * f3;
    u128 r2 = (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)f3_38 * f4;
    u128 r3 = (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4_19 * f4;
    u128 r4 = (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2;
    fe_reduce128(h, r0, r1, r2, r3, r4);
}

static void fe_sqn(fe *h, const fe *f, int n) {
    fe_sq(h, f);
    for (int i = 1; i < n; i++) fe_sq(h, h);
}

static uint64_t load64(const uint8_t *s) {
    uint64_t r = 0;
    for (int i = 7; i >= 0; i--) r = (r << 8) | s[i];
    return r;
}

static void store64(uint8_t *s, uint64_t w) {
    for (int i = 0; i < 8; i++) s[i] = (uint8_t)(w >> (8 * i));
}

// The 255 low bits of s (the top bit is ignored); not reduced below p.
static void fe_frombytes(fe *h, const uint8_t *s) {
    h->v[0] = load64(s) & MASK51;
    h->v[1] = (load64(s + 6) >> 3) & MASK51;
    h->v[2] = (load64(s + 12) >> 6) & MASK51;
    h->v[3] = (load64(s + 19) >> 1) & MASK51;
    h->v[4] = (load64(s + 24) >> 12) & MASK51;
}

// The canonical encoding (the value reduced below p).
static void fe_tobytes(uint8_t *s, const fe *f) {
    fe t = *f;
    fe_carry(&t);
    fe_carry(&t);
    // Now t < 2^255 + small; subtract p when t ≥ p.
    uint64_t q = (t.v[0] + 19) >> 51;
    q = (t.v[1] + q) >> 51;
    q = (t.v[2] + q) >> 51;
    q = (t.v[3] + q) >> 51;
    q = (t.v[4] + q) >> 51;
    t.v[0] += 19 * q;
    uint64_t c;
    c = t.v[0] >> 51; t.v[0] &= MASK51; t.v[1] += c;
    c = t.v[1] >> 51; t.v[1] &= MASK51; t.v[2] += c;
    c = t.v[2] >> 51; t.v[2] &= MASK51; t.v[3] += c;
    c = t.v[3] >> 51; t.v[3] &= MASK51; t.v[4] += c;
    t.v[4] &= MASK51;
    store64(s, t.v[0] | (t.v[1] << 51));
    store64(s + 8, (t.v[1] >> 13) | (t.v[2] << 38));
    store64(s + 16, (t.v[2] >> 26) | (t.v[3] << 25));
    store64(s + 24, (t.v[3] >> 39) | (t.v[4] << 12));
}

static int fe_iszero(const fe *f) {
    uint8_t s[32];
    fe_tobytes(s, f);
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++) acc |= s[i];
    return acc == 0;
}

static int fe_equal(const fe *f, const fe *g) {
    uint8_t a[32], b[32];
    fe_tobytes(a, f);
    fe_tobytes(b, g);
    return memcmp(a, b, 32) == 0;
}

static int fe_isnegative(const fe *f) {
    uint8_t s[32];
    fe_tobytes(s, f);
    return s[0] & 1;
}

// z^(2^250 − 1), and z^11 on the side: the common part of inversion and the square root.
static void fe_pow2_250_1(fe *out, fe *z11, const fe *z) {
    fe z2, z9, t, z5_0, z10_0, z20_0, z40_0, z50_0, z100_0, z200_0;
    fe_sq(&z2, z);                 // 2
    fe_sqn(&t, &z2, 2);            // 8
    fe_mul(&z9, &t, z);            // 9
    fe_mul(z11, &z9, &z2);         // 11
    fe_sq(&t, z11);                // 22
    fe_mul(&z5_0, &t, &z9);        // 31 = 2^5 − 1
    fe_sqn(&t, &z5_0, 5);
    fe_mul(&z10_0, &t, &z5_0);     // 2^10 − 1
    fe_sqn(&t, &z10_0, 10);
    fe_mul(&z20_0, &t, &z10_0);    // 2^20 − 1
    fe_sqn(&t, &z20_0, 20);
    fe_mul(&z40_0, &t, &z20_0);    // 2^40 − 1
    fe_sqn(&t, &z40_0, 10);
    fe_mul(&z50_0, &t, &z10_0);    // 2^50 − 1
    fe_sqn(&t, &z50_0, 50);
    fe_mul(&z100_0, &t, &z50_0);   // 2^100 − 1
    fe_sqn(&t, &z100_0, 100);
    fe_mul(&z200_0, &t, &z100_0);  // 2^200 − 1
    fe_sqn(&t, &z200_0, 50);
    fe_mul(out, &t, &z50_0);       // 2^250 − 1
}

// z^(p − 2) = z^(2^255 − 21) = 1/z.
static void fe_invert(fe *out, const fe *z) {
    fe t, z11;
    fe_pow2_250_1(&t, &z11, z);
    fe_sqn(&t, &t, 5);             // 2^255 − 32
    fe_mul(out, &t, &z11);         // 2^255 − 21
}

// z^((p − 5)/8) = z^(2^252 − 3).
static void fe_pow22523(fe *out, const fe *z) {
    fe t, z11;
    fe_pow2_250_1(&t, &z11, z);
    fe_sqn(&t, &t, 2);             // 2^252 − 4
    fe_mul(out, &t, z);            // 2^252 − 3
}

// Constants, set by init.
static fe fe_d, fe_d2, fe_sqrtm1;

typedef struct {
    fe X, Y, Z, T;
} ge;

// A point ready to be added: (Y + X, Y − X, Z, 2d·T).
typedef struct {
    fe YplusX, YminusX, Z, T2d;
} ge_cached;

static void ge_identity(ge *p) {
    fe_0(&p->X);
    fe_1(&p->Y);
    fe_1(&p->Z);
    fe_0(&p->T);
}

static void ge_to_cached(ge_cached *c, const ge *p) {
    fe_add(&c->YplusX, &p->Y, &p->X);
    fe_sub(&c->YminusX, &p->Y, &p->X);
    c->Z = p->Z;
    fe_mul(&c->T2d, &p->T, &fe_d2);
}

// r = p + q (r may alias p).
static void ge_add(ge *r, const ge *p, const ge_cached *q) {
    fe a, b, c, d, e, f, g, h, t;
    fe_sub(&t, &p->Y, &p->X);
    fe_mul(&a, &t, &q->YminusX);
    fe_add(&t, &p->Y, &p->X);
    fe_mul(&b, &t, &q->YplusX);
    fe_mul(&c, &p->T, &q->T2d);
    fe_mul(&t, &p->Z, &q->Z);
    fe_add(&d, &t, &t);
    fe_sub(&e, &b, &a);
    fe_sub(&f, &d, &c);
    fe_add(&g, &d, &c);
    fe_add(&h, &b, &a);
    fe_mul(&r->X, &e, &f);
    fe_mul(&r->Y, &g, &h);
    fe_mul(&r->T, &e, &h);
    fe_mul(&r->Z, &f, &g);
}

// r = p − q (r may alias p).
static void ge_sub(ge *r, const ge *p, const ge_cached *q) {
    ge_cached n;
    n.YplusX = q->YminusX;
    n.YminusX = q->YplusX;
    n.Z = q->Z;
    fe_neg(&n.T2d, &q->T2d);
    ge_add(r, p, &n);
}

// r = 2p (r may alias p); T is computed only when `withT`.
static void ge_double(ge *r, const ge *p, int withT) {
    fe a, b, c, e, f, g, h, t;
    fe_sq(&a, &p->X);
    fe_sq(&b, &p->Y);
    fe_sq(&t, &p->Z);
    fe_add(&c, &t, &t);
    fe_add(&h, &a, &b);
    fe_add(&t, &p->X, &p->Y);
    fe_sq(&t, &t);
    fe_sub(&e, &h, &t);
    fe_sub(&g, &a, &b);
    fe_add(&f, &c, &g);
    fe_mul(&r->X, &e, &f);
    fe_mul(&r->Y, &g, &h);
    fe_mul(&r->Z, &f, &g);
    if (withT) fe_mul(&r->T, &e, &h);
}

static int ge_is_identity(const ge *p) { return fe_iszero(&p->X) && fe_equal(&p->Y, &p->Z); }

// Whether [8]p is the identity (p is of small order).
static int ge_is_small_order(const ge *p) {
    ge q;
    ge_double(&q, p, 0);
    ge_double(&q, &q, 0);
    ge_double(&q, &q, 0);
    return ge_is_identity(&q);
}

// Decodes a canonical encoding: y below p, x = 0 only with the sign bit clear. 0 on failure.
static int ge_frombytes(ge *p, const uint8_t *s) {
    fe y, u, v, v3, vxx, x, t, check;
    fe_frombytes(&y, s);
    uint8_t back[32];
    fe_tobytes(back, &y);
    if (memcmp(back, s, 31) != 0 || back[31] != (s[31] & 0x7f)) return 0;  // y ≥ p
    fe_sq(&u, &y);
    fe_mul(&v, &u, &fe_d);
    fe one;
    fe_1(&one);
    fe_sub(&u, &u, &one);  // u = y² − 1
    fe_add(&v, &v, &one);  // v = d·y² + 1
    // x = u·v³·(u·v⁷)^((p−5)/8)
    fe_sq(&v3, &v);
    fe_mul(&v3, &v3, &v);
    fe_sq(&x, &v3);
    fe_mul(&x, &x, &v);
    fe_mul(&x, &x, &u);
    fe_pow22523(&x, &x);
    fe_mul(&x, &x, &v3);
    fe_mul(&x, &x, &u);
    fe_sq(&vxx, &x);
    fe_mul(&vxx, &vxx, &v);
    fe_sub(&check, &vxx, &u);
    if (!fe_iszero(&check)) {
        fe_add(&check, &vxx, &u);
        if (!fe_iszero(&check)) return 0;  // not on the curve
        fe_mul(&x, &x, &fe_sqrtm1);
    }
    int sign = s[31] >> 7;
    if (fe_iszero(&x) && sign) return 0;
    if (fe_isnegative(&x) != sign) {
        fe_neg(&t, &x);
        x = t;
    }
    p->X = x;
    p->Y = y;
    fe_1(&p->Z);
    fe_mul(&p->T, &x, &y);
    return 1;
}

// Signed sliding window of a scalar below 2^255: digits r[0..255], each 0 or odd in [−15, 15],
// with Σ r[i]·2^i equal to the scalar.
static void slide(int8_t *r, const uint8_t *a) {
    for (int i = 0; i < 256; i++) r[i] = 1 & (a[i >> 3] >> (i & 7));
    for (int i = 0; i < 256; i++) {
        if (!r[i]) continue;
        for (int b = 1; b <= 6 && i + b < 256; b++) {
            if (!r[i + b]) continue;
            if (r[i] + (r[i + b] << b) <= 15) {
                r[i] += r[i + b] << b;
                r[i + b] = 0;
            } else if (r[i] - (r[i + b] << b) >= -15) {
                r[i] -= r[i + b] << b;
                for (int k = i + b; k < 256; k++) {
                    if (!r[k]) {
                        r[k] = 1;
                        break;
                    }
                    r[k] = 0;
                }
            } else {
                break;
            }
        }
    }
}

// P, 3P, 5P, …, 15P.
static void odd_multiples(ge_cached *table, const ge *p) {
    ge p2, acc = *p;
    ge_double(&p2, p, 1);
    ge_cached c2;
    ge_to_cached(&c2, &p2);
    ge_to_cached(&table[0], &acc);
    for (int i = 1; i < 8; i++) {
        ge_add(&acc, &acc, &c2);
        ge_to_cached(&table[i], &acc);
    }
}

static ge ge_base;
static ge_cached base_table[8];
static int init_status = -1;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void fe_pow_bytes(fe *out, const fe *a, const uint8_t *e) {
    fe r;
    fe_1(&r);
    for (int i = 255; i >= 0; i--) {
        fe_sq(&r, &r);
        if ((e[i >> 3] >> (i & 7)) & 1) fe_mul(&r, &r, a);
    }
    *out = r;
}

static void init_once_body(void) {
    if (sodium_init() < 0) return;
    fe n, dd, t;
    fe_0(&n);
    n.v[0] = 121666;
    fe_invert(&t, &n);
    fe_0(&n);
    n.v[0] = 121665;
    fe_mul(&dd, &t, &n);
    fe_neg(&fe_d, &dd);
    fe_add(&fe_d2, &fe_d, &fe_d);
    // √−1 = 2^((p − 1)/4), (p − 1)/4 = 2^253 − 5.
    uint8_t e[32];
    memset(e, 0xff, 32);
    e[0] = 0xfb;
    e[31] = 0x1f;
    fe two;
    fe_0(&two);
    two.v[0] = 2;
    fe_pow_bytes(&fe_sqrtm1, &two, e);
    fe sq, minus1, one;
    fe_1(&one);
    fe_neg(&minus1, &one);
    fe_sq(&sq, &fe_sqrtm1);
    if (!fe_equal(&sq, &minus1)) return;
    // d·121666 = −121665.
    fe_0(&n);
    n.v[0] = 121666;
    fe_mul(&t, &fe_d, &n);
    fe_0(&n);
    n.v[0] = 121665;
    fe_add(&t, &t, &n);
    if (!fe_iszero(&t)) return;
    static const uint8_t base[32] = {
        0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
        0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
    };
    if (!ge_frombytes(&ge_base, base) || fe_isnegative(&ge_base.X)) return;
    odd_multiples(base_table, &ge_base);
    init_status = 0;
}

int xc_ed25519_init(void) {
    pthread_once(&init_once, init_once_body);
    return init_status;
}

// L = 2^252 + 27742317777372353535851937790883648493, little-endian.
static const uint8_t group_order[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

static int scalar_is_canonical(const uint8_t *s) {
    for (int i = 31; i >= 0; i--) {
        if (s[i] < group_order[i]) return 1;
        if (s[i] > group_order[i]) return 0;
    }
    return 0;  // equal to L
}

// One term of the sum: a point (as a table of odd multiples) and the digits of its scalar.
typedef struct {
    ge_cached table[8];
    int8_t digits[256];
} term;

// out = Σ (digits of term j)·(point of term j), with T.
static void msm(ge *out, const term *terms, size_t count) {
    int top = -1;
    for (size_t j = 0; j < count; j++)
        for (int i = 255; i > top; i--)
            if (terms[j].digits[i]) {
                top = i;
                break;
            }
    ge_identity(out);
    for (int i = top; i >= 0; i--) {
        int need_t = i == 0;
        for (size_t j = 0; j < count && !need_t; j++) need_t = terms[j].digits[i] != 0;
        ge_double(out, out, need_t);
        for (size_t j = 0; j < count; j++) {
            int8_t d = terms[j].digits[i];
            if (d > 0) ge_add(out, out, &terms[j].table[d / 2]);
            else if (d < 0) ge_sub(out, out, &terms[j].table[(-d) / 2]);
        }
    }
}

// Whether [8]·Σ scalars[i]·points[i] is the identity, given the terms' digits set.
static int sum_is_small(const term *terms, size_t count) {
    ge r;
    msm(&r, terms, count);
    return ge_is_small_order(&r);
}

static void ge_tobytes(uint8_t *s, const ge *p) {
    fe zinv, x, y;
    fe_invert(&zinv, &p->Z);
    fe_mul(&x, &p->X, &zinv);
    fe_mul(&y, &p->Y, &zinv);
    fe_tobytes(s, &y);
    s[31] ^= (uint8_t)(fe_isnegative(&x) << 7);
}

// k = SHA-512(R ‖ A ‖ M) mod L.
static void challenge(uint8_t *k, const uint8_t *sig, const uint8_t *m, size_t mlen, const uint8_t *pk) {
    crypto_hash_sha512_state h;
    uint8_t digest[64];
    crypto_hash_sha512_init(&h);
    crypto_hash_sha512_update(&h, sig, 32);
    crypto_hash_sha512_update(&h, pk, 32);
    crypto_hash_sha512_update(&h, m, mlen);
    crypto_hash_sha512_final(&h, digest);
    crypto_core_ed25519_scalar_reduce(k, digest);
}

// The odd multiples of keys verified lately, found by their encoding: decoding a key takes a
// square root and its table seven additions, and a few keys sign most transactions. A slot holds
// the last key whose encoding hashed to it; every key in a slot decoded, is canonical and is not
// of small order.
#define KEY_SLOTS 1024
typedef struct {
    uint8_t pk[32];
    int used;
    ge_cached table[8];
} key_slot;
static key_slot key_slots[KEY_SLOTS];
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;

// The odd multiples P, 3P, …, 15P of the key `pk` into `table`; 0 when `pk` is not a canonical
// encoding of a point outside the small-order ones.
static int key_table(ge_cached *table, const uint8_t *pk) {
    size_t slot = (size_t)((load64(pk) ^ load64(pk + 8) ^ load64(pk + 16)) % KEY_SLOTS);
    pthread_mutex_lock(&key_lock);
    if (key_slots[slot].used && memcmp(key_slots[slot].pk, pk, 32) == 0) {
        memcpy(table, key_slots[slot].table, sizeof key_slots[slot].table);
        pthread_mutex_unlock(&key_lock);
        return 1;
    }
    pthread_mutex_unlock(&key_lock);
    ge a;
    if (!ge_frombytes(&a, pk) || ge_is_small_order(&a)) return 0;
    odd_multiples(table, &a);
    pthread_mutex_lock(&key_lock);
    memcpy(key_slots[slot].pk, pk, 32);
    memcpy(key_slots[slot].table, table, sizeof key_slots[slot].table);
    key_slots[slot].used = 1;
    pthread_mutex_unlock(&key_lock);
    return 1;
}

// The parts of one signature that the equation needs, or 0 when it is malformed.
typedef struct {
    ge R;
    ge_cached A[8];
    uint8_t k[32];
} parsed;

static int parse_item(parsed *out, const uint8_t *sig, const uint8_t *m, size_t mlen, const uint8_t *pk) {
    if (!scalar_is_canonical(sig + 32)) return 0;
    if (!key_table(out->A, pk)) return 0;
    if (!ge_frombytes(&out->R, sig) || ge_is_small_order(&out->R)) return 0;
    challenge(out->k, sig, m, mlen, pk);
    return 1;
}

#define GROUP 64

// The weighted equation over items that parsed: [8](Σ zᵢRᵢ + Σ (zᵢkᵢ)Aᵢ − (Σ zᵢSᵢ)B) = identity.
// Terms for equal keys are merged. `weights` holds 32-byte scalars (below L).
static int equation(size_t n, parsed *items, const uint8_t *const *sigs, const uint8_t *const *pks,
                    const uint8_t (*weights)[32], term *terms) {
    size_t count = 0;
    uint8_t sum_s[32] = {0};
    const uint8_t *key_of[GROUP];
    uint8_t key_scalar[GROUP][32];
    size_t keys = 0;
    size_t key_term[GROUP];
    for (size_t i = 0; i < n; i++) {
        uint8_t t[32];
        crypto_core_ed25519_scalar_mul(t, weights[i], sigs[i] + 32);
        crypto_core_ed25519_scalar_add(sum_s, sum_s, t);
        // zᵢ·Rᵢ
        slide(terms[count].digits, weights[i]);
        odd_multiples(terms[count].table, &items[i].R);
        count++;
        // (zᵢkᵢ)·Aᵢ, merged with an earlier term of the same key.
        crypto_core_ed25519_scalar_mul(t, weights[i], items[i].k);
        size_t found = keys;
        for (size_t j = 0; j < keys; j++)
            if (memcmp(key_of[j], pks[i], 32) == 0) {
                found = j;
                break;
            }
        if (found == keys) {
            key_of[keys] = pks[i];
            memcpy(key_scalar[keys], t, 32);
            key_term[keys] = count;
            memcpy(terms[count].table, items[i].A, sizeof items[i].A);
            count++;
            keys++;
        } else {
            crypto_core_ed25519_scalar_add(key_scalar[found], key_scalar[found], t);
        }
    }
    for (size_t j = 0; j < keys; j++) slide(terms[key_term[j]].digits, key_scalar[j]);
    uint8_t neg[32];
    crypto_core_ed25519_scalar_negate(neg, sum_s);
    slide(terms[count].digits, neg);
    memcpy(terms[count].table, base_table, sizeof base_table);
    count++;
    return sum_is_small(terms, count);
}

// One signature: P = S·B − k·A is computed and encoded; when its encoding is R's (and P is not of
// small order) the cofactored equation holds with nothing more to check. Otherwise R is decoded
// and [8](P − R) compared with the identity.
int xc_ed25519_verify(const uint8_t *sig, const uint8_t *m, size_t mlen, const uint8_t *pk) {
    if (xc_ed25519_init() != 0) return 0;
    if (!scalar_is_canonical(sig + 32)) return 0;
    term terms[2];
    if (!key_table(terms[0].table, pk)) return 0;
    uint8_t k[32];
    challenge(k, sig, m, mlen, pk);
    // −k·A: the digits of k, negated.
    slide(terms[0].digits, k);
    for (int i = 0; i < 256; i++) terms[0].digits[i] = (int8_t)-terms[0].digits[i];
    slide(terms[1].digits, sig + 32);
    memcpy(terms[1].table, base_table, sizeof base_table);
    ge p;
    msm(&p, terms, 2);
    uint8_t encoded[32];
    ge_tobytes(encoded, &p);
    if (memcmp(encoded, sig, 32) == 0) return !ge_is_small_order(&p);
    ge r;
    if (!ge_frombytes(&r, sig) || ge_is_small_order(&r)) return 0;
    ge_cached rc;
    ge_to_cached(&rc, &r);
    ge_sub(&p, &p, &rc);
    return ge_is_small_order(&p);
}

// Checks up to GROUP items; verdicts to ok.
static size_t verify_group(size_t n, const uint8_t *const *sigs, const uint8_t *const *msgs, const size_t *mlens,
                           const uint8_t *const *pks, uint8_t *ok) {
    parsed *items = malloc(sizeof(parsed) * n);
    term *terms = malloc(sizeof(term) * (2 * n + 1));
    if (!items || !terms) {
        free(items);
        free(terms);
        size_t good = 0;
        for (size_t i = 0; i < n; i++) good += (ok[i] = (uint8_t)xc_ed25519_verify(sigs[i], msgs[i], mlens[i], pks[i]));
        return good;
    }
    // The items that parse, gathered at the front.
    const uint8_t *gs[GROUP], *gk[GROUP];
    size_t index[GROUP];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        ok[i] = 0;
        if (parse_item(&items[m], sigs[i], msgs[i], mlens[i], pks[i])) {
            gs[m] = sigs[i];
            gk[m] = pks[i];
            index[m] = i;
            m++;
        }
    }
    size_t good = 0;
    if (m == 1) {
        size_t i = index[0];
        good = ok[i] = (uint8_t)xc_ed25519_verify(sigs[i], msgs[i], mlens[i], pks[i]);
    } else if (m > 1) {
        // Fresh random 128-bit weights, from one call to the random source.
        uint8_t random[GROUP * 16];
        randombytes_buf(random, 16 * m);
        uint8_t weights[GROUP][32];
        memset(weights, 0, sizeof weights);
        for (size_t i = 0; i < m; i++) memcpy(weights[i], random + 16 * i, 16);
        if (equation(m, items, gs, gk, (const uint8_t(*)[32])weights, terms)) {
            for (size_t i = 0; i < m; i++) ok[index[i]] = 1;
            good = m;
        } else {
            for (size_t j = 0; j < m; j++) {
                size_t i = index[j];
                good += ok[i] = (uint8_t)xc_ed25519_verify(sigs[i], msgs[i], mlens[i], pks[i]);
            }
        }
    }
    free(items);
    free(terms);
    return good;
}

size_t xc_ed25519_verify_batch(size_t n, const uint8_t *const *sigs, const uint8_t *const *msgs, const size_t *mlens,
                               const uint8_t *const *pks, uint8_t *ok) {
    if (xc_ed25519_init() != 0) {
        memset(ok, 0, n);
        return 0;
    }
    size_t good = 0;
    for (size_t start = 0; start < n; start += GROUP) {
        size_t count = n - start < GROUP ? n - start : GROUP;
        good += verify_group(count, sigs + start, msgs + start, mlens + start, pks + start, ok + start);
    }
    return good;
}
