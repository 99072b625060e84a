// SM3 (GB/T 32905) and SM2 signature verification (GB/T 32918.2, recommended curve of GB/T
// 32918.5) for the browser, whose WebCrypto has neither: enough for the explorer to check an sm2
// chain's proofs (SM3 Merkle paths and header hashes, SM2 finality seals). Verification only:
// nothing here touches a secret, so plain BigInt arithmetic (not constant-time) is fine.
// Checked against the standards' examples and docs/transactions.md §10 (clients/console tests).

// ---------------------------------------------------------------------------------------------
// SM3

const IV = [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e];
const rotl = (x, n) => ((x << (n & 31)) | (x >>> ((32 - (n & 31)) & 31))) >>> 0;
const P0 = (x) => (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0;
const P1 = (x) => (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0;
const T = Array.from({ length: 64 }, (_, j) => rotl(j < 16 ? 0x79cc4519 : 0x7a879d8a, j % 32));

function compress(v, block, at) {
  const w = new Uint32Array(68), w1 = new Uint32Array(64);
  for (let i = 0; i < 16; i++) {
    const o = at + 4 * i;
    w[i] = ((block[o] << 24) | (block[o + 1] << 16) | (block[o + 2] << 8) | block[o + 3]) >>> 0;
  }
  for (let j = 16; j < 68; j++) w[j] = (P1(w[j - 16] ^ w[j - 9] ^ rotl(w[j - 3], 15)) ^ rotl(w[j - 13], 7) ^ w[j - 6]) >>> 0;
  for (let j = 0; j < 64; j++) w1[j] = (w[j] ^ w[j + 4]) >>> 0;
  let [a, b, c, d, e, f, g, h] = v;
  for (let j = 0; j < 64; j++) {
    const a12 = rotl(a, 12);
    const ss1 = rotl((a12 + e + T[j]) >>> 0, 7);
    const ss2 = (ss1 ^ a12) >>> 0;
    const ff = j < 16 ? a ^ b ^ c : (a & b) | (a & c) | (b & c);
    const gg = j < 16 ? e ^ f ^ g : (e & f) | (~e & g);
    const tt1 = (((ff >>> 0) + d + ss2 + w1[j]) >>> 0);
    const tt2 = (((gg >>> 0) + h + ss1 + w[j]) >>> 0);
    d = c; c = rotl(b, 9); b = a; a = tt1;
    h = g; g = rotl(f, 19); f = e; e = P0(tt2);
  }
  const out = [a, b, c, d, e, f, g, h];
  for (let i = 0; i < 8; i++) v[i] = (v[i] ^ out[i]) >>> 0;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** SM3 of the concatenation of the given byte arrays (32 bytes). */
export function sm3(...parts) {
  const msg = concat(parts);
  const bits = BigInt(msg.length) * 8n;
  const padded = new Uint8Array((((msg.length + 8) >> 6) + 1) << 6);
  padded.set(msg);
  padded[msg.length] = 0x80;
  new DataView(padded.buffer).setBigUint64(padded.length - 8, bits);
  const v = IV.slice();
  for (let at = 0; at < padded.length; at += 64) compress(v, padded, at);
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  v.forEach((x, i) => view.setUint32(4 * i, x));
  return out;
}

// ---------------------------------------------------------------------------------------------
// SM2 on a curve y² = x³ + ax + b over F_p of prime order n (the recommended curve of GB/T
// 32918.5 unless told otherwise; the standard's part 2 examples use a test curve)

/** A curve from its parameters as hex strings {p, a, b, n, gx, gy}. */
export function sm2Curve({ p, a, b, n, gx, gy }) {
  const h = (x) => BigInt("0x" + x);
  return { p: h(p), a: h(a), b: h(b), n: h(n), gx: h(gx), gy: h(gy) };
}

/** The recommended SM2 curve (GB/T 32918.5; OpenSSL's SM2). */
export const SM2_CURVE = sm2Curve({
  p: "fffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffff",
  a: "fffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffc",
  b: "28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93",
  n: "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123",
  gx: "32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7",
  gy: "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0",
});

/** The user id of SM2 signatures on XiangChain (GM/T 0009's default). */
export const SM2_DEFAULT_ID = new TextEncoder().encode("1234567812345678");

const mod = (x, m) => { const r = x % m; return r < 0n ? r + m : r; };

function inverse(x, m) {
  // Extended Euclid; x is non-zero modulo the prime m.
  let [a, b, u, v] = [mod(x, m), m, 1n, 0n];
  while (a !== 0n) {
    const q = b / a;
    [a, b] = [b - q * a, a];
    [u, v] = [v - q * u, u];
  }
  return mod(v, m);
}

// Jacobian coordinates (X, Y, Z) for x = X/Z², y = Y/Z³; Z = 0 is the point at infinity.
const INFINITY = [1n, 1n, 0n];

function double(c, [x, y, z]) {
  if (z === 0n || y === 0n) return INFINITY;
  const p = c.p, yy = mod(y * y, p), zz = mod(z * z, p);
  const s = mod(4n * x * yy, p);
  const m = mod(3n * x * x + c.a * zz * zz, p);
  const x3 = mod(m * m - 2n * s, p);
  const y3 = mod(m * (s - x3) - 8n * yy * yy, p);
  return [x3, y3, mod(2n * y * z, p)];
}

function add(c, q1, q2) {
  if (q1[2] === 0n) return q2;
  if (q2[2] === 0n) return q1;
  const p = c.p, [x1, y1, z1] = q1, [x2, y2, z2] = q2;
  const z1z1 = mod(z1 * z1, p), z2z2 = mod(z2 * z2, p);
  const u1 = mod(x1 * z2z2, p), u2 = mod(x2 * z1z1, p);
  const s1 = mod(y1 * z2 * z2z2, p), s2 = mod(y2 * z1 * z1z1, p);
  if (u1 === u2) return s1 === s2 ? double(c, q1) : INFINITY;
  const h = mod(u2 - u1, p), r = mod(s2 - s1, p);
  const hh = mod(h * h, p), hhh = mod(h * hh, p), v = mod(u1 * hh, p);
  const x3 = mod(r * r - hhh - 2n * v, p);
  const y3 = mod(r * (v - x3) - s1 * hhh, p);
  return [x3, y3, mod(z1 * z2 * h, p)];
}

/** s·G + t·Q (Shamir's trick), as an affine [x, y], or null for the point at infinity. */
function twoMul(c, s, t, q) {
  const g = [c.gx, c.gy, 1n], qj = [q[0], q[1], 1n], gq = add(c, g, qj);
  let r = INFINITY;
  for (let i = c.n.toString(2).length - 1; i >= 0; i--) {
    r = double(c, r);
    const bs = (s >> BigInt(i)) & 1n, bt = (t >> BigInt(i)) & 1n;
    if (bs && bt) r = add(c, r, gq);
    else if (bs) r = add(c, r, g);
    else if (bt) r = add(c, r, qj);
  }
  if (r[2] === 0n) return null;
  const zi = inverse(r[2], c.p), zi2 = mod(zi * zi, c.p);
  return [mod(r[0] * zi2, c.p), mod(r[1] * zi2 * zi, c.p)];
}

const toBig = (bytes) => bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
function toBytes32(n) {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) { out[i] = Number(n & 0xffn); n >>= 8n; }
  return out;
}

/** The point of a 65-byte uncompressed public key, or null when it is not a point of the curve. */
export function sm2Point(raw, c = SM2_CURVE) {
  if (!(raw instanceof Uint8Array) || raw.length !== 65 || raw[0] !== 4) return null;
  const x = toBig(raw.subarray(1, 33)), y = toBig(raw.subarray(33, 65));
  if (x >= c.p || y >= c.p) return null;
  if (mod(y * y - (x * x * x + c.a * x + c.b), c.p) !== 0n) return null;
  return [x, y];
}

/** Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) (GB/T 32918.2 §5.5). */
export function sm2Z(point, id = SM2_DEFAULT_ID, c = SM2_CURVE) {
  const bits = id.length * 8;
  return sm3(Uint8Array.of((bits >> 8) & 0xff, bits & 0xff), id,
    toBytes32(c.a), toBytes32(c.b), toBytes32(c.gx), toBytes32(c.gy), toBytes32(point[0]), toBytes32(point[1]));
}

/**
 * The (r, s) of a DER `SEQUENCE { INTEGER r, INTEGER s }`, strictly as the node reads it: short
 * lengths, positive minimally encoded integers of at most 33 bytes, nothing after; else null.
 */
export function parseDERSignature(der) {
  if (!(der instanceof Uint8Array) || der.length < 8 || der.length > 72) return null;
  if (der[0] !== 0x30 || der[1] !== der.length - 2) return null;
  let p = 2;
  const integer = () => {
    if (p + 2 > der.length || der[p] !== 0x02) return null;
    const n = der[p + 1];
    if (n < 1 || n > 33 || p + 2 + n > der.length) return null;
    const v = der.subarray(p + 2, p + 2 + n);
    if (v[0] & 0x80) return null; // negative
    if (n > 1 && v[0] === 0 && !(v[1] & 0x80)) return null; // not minimal
    p += 2 + n;
    return toBig(v);
  };
  const r = integer();
  if (r === null) return null;
  const s = integer();
  if (s === null || p !== der.length) return null;
  return [r, s];
}

/** SM2 verification of (r, s) as numbers (GB/T 32918.2 §7); `c` the curve. */
export function sm2VerifyRS(raw, r, s, message, id = SM2_DEFAULT_ID, c = SM2_CURVE) {
  const q = sm2Point(raw, c);
  if (!q) return false;
  if (r < 1n || r >= c.n || s < 1n || s >= c.n) return false;
  const t = mod(r + s, c.n);
  if (t === 0n) return false;
  const e = toBig(sm3(sm2Z(q, id, c), message));
  const pt = twoMul(c, s, t, q);
  if (!pt) return false;
  return mod(e + pt[0], c.n) === r;
}

/**
 * Verifies an SM2-with-SM3 signature (strict DER) over `message` for the 65-byte public key
 * `raw` on the recommended curve, with the user id `id` (default "1234567812345678"). Returns
 * false for anything malformed.
 */
export function sm2Verify(raw, signature, message, id = SM2_DEFAULT_ID) {
  const rs = parseDERSignature(signature);
  return rs !== null && sm2VerifyRS(raw, rs[0], rs[1], message, id, SM2_CURVE);
}

/** The 65-byte SM2 point of a PEM certificate (SubjectPublicKeyInfo id-ecPublicKey + SM2 curve), or null. */
export function sm2KeyFromPem(pem) {
  const der = Uint8Array.from(atob(String(pem).replace(/-----[^-]+-----/g, "").replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  // SEQUENCE(89) { SEQUENCE(19) { OID 1.2.840.10045.2.1, OID 1.2.156.10197.1.301 }, BIT STRING(66) { 0, 04 ‖ x ‖ y } }
  const spki = [0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d, 0x03, 0x42, 0x00];
  outer: for (let i = 0; i + spki.length + 65 <= der.length; i++) {
    for (let j = 0; j < spki.length; j++) if (der[i + j] !== spki[j]) continue outer;
    return der.slice(i + spki.length, i + spki.length + 65);
  }
  return null;
}
