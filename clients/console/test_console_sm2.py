"""The console's SM3 and SM2 verifier (``js/gm.js``) in a real browser (Selenium + headless
Chromium) against a real four-validator ``devnet --suite sm2 --demo``: the standards' examples
and the docs' vector run in the page, and the explorer checks an sm2 chain's proofs (SM3 Merkle
paths and header hashes, the validators' SM2 seals) on its own.

Its own module (and so its own network, started after the Ed25519 one of test_console.py is
stopped): two four-validator networks at once are too much for a two-core machine.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import pytest

from test_console import Devnet, make_browser, pytestmark, severe, shot, wait  # noqa: F401

from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

_NET: Optional[Devnet] = None


@pytest.fixture(scope="module")
def sm2net():
    global _NET
    _NET = Devnet(suite="sm2")
    yield _NET
    _NET.stop()
    _NET = None


@pytest.fixture
def desktop():
    d = make_browser(1280, 900)
    yield d
    d.quit()


# The vectors, run in the page with the console's own module. Every entry must come back true.
VECTORS_SCRIPT = """
const done = arguments[arguments.length - 1];
(async () => {
  const gm = await import('/js/gm.js');
  const enc = new TextEncoder();
  const hex = (b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  const bytes = (h) => Uint8Array.from(h.match(/../g).map((x) => parseInt(x, 16)));
  const out = {};
  // GB/T 32905-2016 Annex A.
  out.sm3_abc = hex(gm.sm3(enc.encode('abc'))) === '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0';
  out.sm3_64 = hex(gm.sm3(enc.encode('abcd'.repeat(16)))) === 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732';
  out.sm3_parts = hex(gm.sm3(enc.encode('ab'), enc.encode('c'))) === hex(gm.sm3(enc.encode('abc')));
  out.sm3_empty = hex(gm.sm3()) === '1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b';
  // GB/T 32918.2-2016 Annex A: the test curve, id ALICE123@YAHOO.COM, "message digest".
  const tc = gm.sm2Curve({
    p: '8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3',
    a: '787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498',
    b: '63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A',
    gx: '421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D',
    gy: '0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2',
    n: '8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7' });
  const alice = enc.encode('ALICE123@YAHOO.COM');
  const xa = '0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A';
  const ya = '7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857';
  const pa = bytes('04' + xa + ya);
  out.part2_z = hex(gm.sm2Z(gm.sm2Point(pa, tc), alice, tc)) === 'f4a38489e32b45b6f876e3ac2168ca392362dc8f23459c1d1146fc3dbfb7bc9a';
  const r2 = 0x40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1n;
  const s2 = 0x6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7n;
  const md = enc.encode('message digest');
  out.part2_verifies = gm.sm2VerifyRS(pa, r2, s2, md, alice, tc);
  out.part2_other_message = !gm.sm2VerifyRS(pa, r2, s2, enc.encode('message digesT'), alice, tc);
  out.part2_other_id = !gm.sm2VerifyRS(pa, r2, s2, md, enc.encode('ALICE123@YAHOO.CON'), tc);
  out.part2_s_plus_one = !gm.sm2VerifyRS(pa, r2, s2 + 1n, md, alice, tc);
  // GB/T 32918.5 Annex A: the recommended curve, the default id.
  const pub = bytes('0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13');
  out.part5_verifies = gm.sm2VerifyRS(pub, 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3n,
    0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AAn, md);
  // docs/transactions.md §10, SM2 / SM3.
  const body = enc.encode('{"chain":"xiangchain-local","nonce":"vector-1","timestamp":1767225600000,"contract":"evidence","method":"put","args":{"hash":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824","kind":"doc","meta":{"title":"hello"}}}');
  const sig = bytes('3044022050c1b6b7e35ccdcf7d66844eccad03330cde6baf9bae69f65a6304db5eb836940220042db84a1441aaeb6ce6478e9d6fd60f1495773564a6f659924779c69cda9d03');
  out.docs_length = body.length === 231;
  out.docs_txid = hex(gm.sm3(body)) === '497925f6c8aacef7f202cc57ac4621e8d39eaba1d14c04f7162e3158aa44e05f';
  out.docs_verifies = gm.sm2Verify(pub, sig, body);
  out.docs_other_id = !gm.sm2Verify(pub, sig, body, enc.encode('1234567812345679'));
  out.docs_empty_id = !gm.sm2Verify(pub, sig, body, new Uint8Array(0));
  const spaced = enc.encode(new TextDecoder().decode(body).replace('"nonce":', '"nonce": '));
  out.docs_other_body = !gm.sm2Verify(pub, sig, spaced);
  // Hostile: not strict DER, out of range, not a key.
  const flip = (b, i) => { const c = b.slice(); c[i] ^= 1; return c; };
  const hostile = [new Uint8Array(0), sig.slice(0, -1), Uint8Array.of(...sig, 0), new Uint8Array(64),
    Uint8Array.of(0x30, 0x45, 0x02, 0x21, 0x00, ...sig.slice(4)), flip(sig, 10), flip(sig, 0)];
  out.hostile_signatures = hostile.every((h) => !gm.sm2Verify(pub, h, body));
  out.hostile_keys = [flip(pub, 64), pub.slice(0, 33), new Uint8Array(65)].every((k) => !gm.sm2Verify(k, sig, body));
  return out;
})().then(done, (e) => done({ error: String(e) }));
"""


def test_gm_js_reproduces_the_standards_and_the_docs_vector(sm2net, desktop):
    desktop.get(sm2net.url + "/explorer")
    results: Any = desktop.execute_async_script(VECTORS_SCRIPT)
    assert "error" not in results, results
    failed = [k for k, v in results.items() if v is not True]
    assert failed == [], results
    assert len(results) == 18


def test_explorer_checks_an_sm2_chains_proofs(sm2net, desktop):
    genesis = json.loads((sm2net.dir / "net" / "genesis.json").read_text())
    assert genesis["suite"] == "sm2"
    desktop.get(sm2net.url + "/explorer")
    live = dict(ignored_exceptions=[StaleElementReferenceException])
    WebDriverWait(desktop, 30, **live).until(lambda d: (h := d.find_element(By.ID, "height").text).isdigit() and int(h) > 3)
    committed = [t for t in sm2net.demo["transactions"] if t.get("status") == "committed" and t.get("txid")]
    assert committed
    desktop.get(f"{sm2net.url}/explorer#/tx/{committed[0]['txid']}")
    inc = wait(desktop, ".proof-inclusion", 60)
    assert inc.get_attribute("data-ok") == "true", inc.text
    sigs = wait(desktop, ".proof-sigs", 60)
    valid, quorum = int(sigs.get_attribute("data-valid") or 0), int(sigs.get_attribute("data-quorum") or 99)
    assert quorum == 3 and valid >= quorum, sigs.text
    shot(desktop, "explorer-sm2-proof.png")
    # The same checks by the page's module on several proofs, and on forgeries of each part.
    outcome: Any = desktop.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const txids = arguments[0];
        (async () => {
          const { verifyProof } = await import('/js/proof.js');
          const g = await (await fetch('/v1/genesis')).json();
          const rows = [];
          for (const txid of txids) {
            const p = await (await fetch('/v1/txs/' + txid + '/proof')).json();
            const good = await verifyProof(p, g);
            const badTx = structuredClone(p);
            badTx.txid = badTx.txid.replace(/^./, (c) => (c === '0' ? '1' : '0'));
            const badSeal = structuredClone(p);
            for (const s of badSeal.finality.signatures) {
              const b = Uint8Array.from(atob(s.signature), (c) => c.charCodeAt(0));
              b[b.length - 1] ^= 1;
              s.signature = btoa(String.fromCharCode(...b));
            }
            const asSha = await verifyProof(p, { ...g, suite: 'ed25519' });
            const liar = await verifyProof({ ...p, hashAlgorithm: 'sha256' }, g);
            rows.push({
              algorithm: p.hashAlgorithm, suite: good.suite, ok: good.inclusion.ok, valid: good.signatures.valid.length,
              quorum: good.signatures.quorum, tamperedTx: (await verifyProof(badTx, g)).inclusion.ok,
              tamperedSeals: (await verifyProof(badSeal, g)).signatures.valid.length,
              readAsSha256: asSha.inclusion.ok, liarAlgorithm: liar.inclusion.ok,
            });
          }
          return rows;
        })().then(done, (e) => done(String(e)));
        """,
        [t["txid"] for t in committed[:3]],
    )
    assert isinstance(outcome, list), outcome
    for row in outcome:
        assert row["algorithm"] == "sm3" and row["suite"] == "sm2", row
        assert row["ok"] is True and row["valid"] >= row["quorum"] == 3, row
        assert row["tamperedTx"] is False and row["tamperedSeals"] == 0, row
        assert row["readAsSha256"] is False and row["liarAlgorithm"] is False, row
    assert severe(desktop) == []
