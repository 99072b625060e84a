// Checks a transaction's inclusion proof (GET /v1/txs/{txid}/proof) in the browser: the RFC 6962 /
// 9162 audit path from H(0x00 ‖ txid) to the tx root of the header the proof carries as bytes,
// and, with the genesis, the validators' signatures over "XIANGCHAIN-BLOCK-V1" ‖ H(header bytes).
// H is SHA-256 (WebCrypto) or, on an sm2 chain, SM3; signatures are Ed25519 (WebCrypto) or SM2
// with the user id 1234567812345678 (gm.js: WebCrypto has neither SM3 nor SM2). The suite comes
// from the genesis, never from the proof. When the validator set changed since the genesis, the
// proof's "epochs" carry each change signed by a quorum of the set before it; they are followed
// from the genesis set to the block's. Same algorithm as docs/proofs.md and clients/python
// verify_proof.
import { sm3, sm2Verify, sm2KeyFromPem } from "./gm.js";

const enc = new TextEncoder();

export function hexToBytes(hex) {
  if (typeof hex !== "string" || !/^([0-9a-f]{2})*$/.test(hex)) throw new Error("bad hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function bytesToHex(b) { return [...b].map((x) => x.toString(16).padStart(2, "0")).join(""); }

export function b64ToBytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export async function sha256(...parts) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
}

/** The chain hash of a suite: SM3 on sm2 chains, else SHA-256 (an async function of byte arrays). */
export function chainHash(suite) {
  return /^sm2$/i.test(suite || "") ? async (...parts) => sm3(...parts) : sha256;
}

function equal(a, b) { return a.length === b.length && a.every((x, i) => x === b[i]); }

/** RFC 9162 §2.1.3.2: does `path` lead from leaf hash `leaf` at `index` to `root`? `H` the chain hash. */
export async function verifyInclusion(leaf, index, size, path, root, H = sha256) {
  if (!(index >= 0 && index < size)) return false;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if ((fn & 1) || fn === sn) {
      r = await H(Uint8Array.of(1), p, r);
      if (!(fn & 1)) { while (!(fn & 1) && fn !== 0) { fn >>= 1; sn >>= 1; } }
    } else {
      r = await H(Uint8Array.of(1), r, p);
    }
    fn >>= 1; sn >>= 1;
  }
  return sn === 0 && equal(r, root);
}

/** Decodes BlockHeader.encoded (big-endian, length-prefixed strings). */
export function decodeHeader(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  const need = (n) => { if (p + n > bytes.length) throw new Error("header ends early"); };
  const u16 = () => { need(2); const x = v.getUint16(p); p += 2; return x; };
  const u32 = () => { need(4); const x = v.getUint32(p); p += 4; return x; };
  const u64 = () => { need(8); const x = Number(v.getBigUint64(p)); p += 8; return x; };
  const i64 = () => { need(8); const x = Number(v.getBigInt64(p)); p += 8; return x; };
  const hash = () => { need(32); const x = bytes.slice(p, p + 32); p += 32; return x; };
  const str = () => { const n = u32(); if (n > 1024) throw new Error("header field too long"); need(n); const s = new TextDecoder("utf-8", { fatal: true }).decode(bytes.slice(p, p + n)); p += n; return s; };
  const version = u16();
  if (version !== 1) throw new Error(`unknown header version ${version}`);
  const h = {
    version, chainId: str(), height: u64(), parentHash: hash(), timestamp: i64(), proposer: str(),
    txCount: u32(), txRoot: hash(), execHeight: u64(), resultRoot: hash(), stateHash: hash(),
  };
  if (p !== bytes.length) throw new Error("trailing bytes after the header");
  return h;
}

/** The raw 32-byte Ed25519 key of a PEM certificate: the SubjectPublicKeyInfo with OID 1.3.101.112. */
export function ed25519KeyFromPem(pem) {
  const der = b64ToBytes(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""));
  // SEQUENCE(42) { SEQUENCE(5) { OID 1.3.101.112 }, BIT STRING(33) { 0 unused bits, 32 key bytes } }
  const spki = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
  outer: for (let i = 0; i + spki.length + 32 <= der.length; i++) {
    for (let j = 0; j < spki.length; j++) if (der[i + j] !== spki[j]) continue outer;
    return der.slice(i + spki.length, i + spki.length + 32);
  }
  return null;
}

export function quorum(n) { return n === 1 ? 1 : Math.floor((2 * n) / 3) + 1; }

let ed25519Support = null;
/** Does this browser's WebCrypto verify Ed25519? */
export async function hasEd25519() {
  if (ed25519Support === null) {
    try {
      await crypto.subtle.importKey("raw", new Uint8Array(32).fill(1), { name: "Ed25519" }, false, ["verify"]);
      ed25519Support = true;
    } catch { ed25519Support = false; }
  }
  return ed25519Support;
}

const SUPPORTED = new Set(["ed25519", "sm2"]);

/** The raw public key of a validator certificate for the suite (null when it holds none). */
function keyFromPem(suite, pem) {
  return suite === "sm2" ? sm2KeyFromPem(pem) : ed25519KeyFromPem(pem);
}

/** Does `signature` verify over `message` for the raw key `key` of the suite? Never throws. */
export async function verifySignature(suite, key, signature, message) {
  try {
    if (suite === "sm2") return sm2Verify(key, signature, message);
    const k = await crypto.subtle.importKey("raw", key, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, k, signature, message);
  } catch { return false; }
}

/**
 * Verifies a proof. Returns {inclusion: {ok, why?, height}, signatures: {checked, valid: [ids], quorum, why?}}.
 * Never throws: a malformed proof is reported as not verified.
 */
export async function verifyProof(proof, genesis) {
  const out = { inclusion: { ok: false }, signatures: { checked: false, valid: [], quorum: 0 } };
  let header, headerHash;
  // The suite, and so the hash, comes from the genesis; without one, from the proof's own word.
  const suite = String(genesis ? genesis.suite || "ed25519" : proof?.hashAlgorithm === "sm3" ? "sm2" : "ed25519").toLowerCase();
  const H = chainHash(suite);
  out.suite = suite;
  try {
    const algorithm = suite === "sm2" ? "sm3" : "sha256";
    if (proof?.hashAlgorithm !== undefined && proof.hashAlgorithm !== algorithm) {
      throw new Error(`the proof says hashAlgorithm ${proof.hashAlgorithm}; a ${suite} chain uses ${algorithm}`);
    }
    const raw = b64ToBytes(proof.headerBytes ?? proof.header?.headerBytes);
    header = decodeHeader(raw);
    headerHash = await H(raw);
    out.inclusion.height = header.height;
    for (const claimed of [proof.headerHash, proof.header?.headerHash]) {
      if (claimed !== undefined && claimed !== bytesToHex(headerHash)) throw new Error("headerBytes do not hash to headerHash");
    }
    if (proof.txRoot !== undefined && proof.txRoot !== bytesToHex(header.txRoot)) throw new Error("txRoot differs from the header's");
    if (proof.height !== undefined && Number(proof.height) !== header.height) throw new Error("height differs from the header's");
    if (Number(proof.treeSize) !== header.txCount) throw new Error("treeSize differs from the header's txCount");
    const path = (proof.auditPath || []).map(hexToBytes);
    if (path.some((p) => p.length !== 32)) throw new Error("bad audit path entry");
    const txid = hexToBytes(proof.txid);
    if (txid.length !== 32) throw new Error("bad txid");
    const ok = await verifyInclusion(await H(Uint8Array.of(0), txid), Number(proof.leafIndex), Number(proof.treeSize), path, header.txRoot, H);
    if (!ok) throw new Error("audit path does not lead to the header's tx root");
    out.inclusion.ok = true;
  } catch (e) {
    out.inclusion.why = String(e.message || e);
    return out;
  }
  if (!genesis) return out;
  const validators = genesis.validators || [];
  out.signatures.quorum = quorum(validators.length);
  if (header.chainId !== genesis.chainId) { out.signatures.why = "chain"; return out; }
  if (!SUPPORTED.has(suite)) { out.signatures.why = "suite"; out.signatures.suite = genesis.suite; return out; }
  if (suite === "ed25519" && !(await hasEd25519())) { out.signatures.why = "unsupported"; return out; }
  const message = concat(enc.encode("XIANGCHAIN-BLOCK-V1"), headerHash);
  let keys = new Map();
  for (const v of validators) {
    let raw = null;
    try { raw = keyFromPem(suite, v.certificate || ""); } catch { /* no key: the validator is not counted */ }
    if (raw) keys.set(String(v.nodeId), raw);
  }
  try {
    const followed = await followEpochs(proof.epochs || [], keys, out.signatures.quorum, genesis.chainId, header.height, suite);
    keys = followed.keys;
    out.signatures.quorum = followed.quorum;
    out.signatures.epochs = followed.count;
  } catch (e) {
    out.signatures.checked = true;
    out.signatures.why = "epochs";
    out.signatures.detail = String(e.message || e);
    return out;
  }
  for (const s of proof.finality?.signatures || []) {
    const id = s.validator;
    if (!keys.has(id) || out.signatures.valid.includes(id)) continue;
    let sig;
    try { sig = b64ToBytes(s.signature); } catch { continue; /* a bad signature is just not counted */ }
    if (await verifySignature(suite, keys.get(id), sig, message)) out.signatures.valid.push(id);
  }
  out.signatures.checked = true;
  return out;
}

function u32be(n) { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n); return b; }
function u64be(n) { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(n)); return b; }
function lengthPrefixed(bytes) { return concat(u32be(bytes.length), bytes); }

/** The bytes the set before an epoch change signs (EpochChange.signingMessage). */
export function epochMessage(chainId, change) {
  const parts = [
    lengthPrefixed(enc.encode("XIANGCHAIN-EPOCH-V1")), lengthPrefixed(enc.encode(chainId)),
    u64be(change.epoch), u64be(change.firstHeight), u32be(change.validators.length),
  ];
  for (const v of change.validators) parts.push(lengthPrefixed(enc.encode(String(v.nodeId))), lengthPrefixed(b64ToBytes(v.publicKey)));
  return concat(...parts);
}

/**
 * Follows the signed validator-set changes from the genesis set: each change must be the next
 * epoch, start no later than the block, and carry valid signatures of a quorum of the set before
 * it. Returns the keys and quorum of the block's set; throws when the chain of changes breaks.
 */
export async function followEpochs(epochs, keys, q, chainId, height, suite = "ed25519") {
  let expected = 1, lastFirst = 0, count = 0;
  if (!Array.isArray(epochs) || epochs.length > 1024) throw new Error("bad epochs list");
  for (const change of epochs) {
    if (!Array.isArray(change.validators) || change.validators.length === 0 || change.validators.length > 1024) throw new Error("bad epoch change");
    if (Number(change.epoch) !== expected || !(Number(change.firstHeight) > lastFirst)) throw new Error("epoch changes must follow each other from epoch 1");
    if (Number(change.firstHeight) > height) throw new Error(`epoch ${change.epoch} starts after the block`);
    const message = epochMessage(chainId, change);
    const signed = new Set();
    for (const s of change.signatures || []) {
      const id = String(s.validator);
      if (!keys.has(id) || signed.has(id)) continue;
      let sig;
      try { sig = b64ToBytes(s.signature); } catch { continue; /* not counted */ }
      if (await verifySignature(suite, keys.get(id), sig, message)) signed.add(id);
    }
    if (signed.size < q) throw new Error(`epoch ${change.epoch} is signed by ${signed.size} validator(s) of the set before it; ${q} needed`);
    keys = new Map(change.validators.map((v) => [String(v.nodeId), b64ToBytes(v.publicKey)]));
    q = quorum(change.validators.length);
    expected += 1; lastFirst = Number(change.firstHeight); count += 1;
  }
  return { keys, quorum: q, count };
}

let genesisPromise = null;
/** GET /v1/genesis once per page. */
export function genesis() {
  if (!genesisPromise) genesisPromise = fetch("/v1/genesis").then((r) => (r.ok ? r.json() : null)).catch(() => null);
  return genesisPromise;
}
