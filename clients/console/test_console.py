"""The web console in a real browser (Selenium 4, Debian's headless Chromium) against a real
four-validator devnet seeded with the crab demo season (``devnet --demo``).

Needs XIANGCHAIN_BIN (the built binary), ``chromium`` and ``chromium-driver``, and ``selenium``.
The sign-in flows need the session API (``/v1/console/*``); they are skipped while
``POST /v1/console/signin`` answers 404.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is needed for the console tests")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
# The devnet's ports lie outside the kernel's ephemeral range, from which the browser, its driver
# and the nodes dialling one another get theirs (clients/python/local_ports.py).
sys.path.insert(0, str(REPO / "clients" / "python"))
from local_ports import free_block  # noqa: E402

# Screenshots go to a temporary folder unless XC_SCREENSHOTS names one (docs/screenshots to refresh
# the README's pictures), so a test run does not rewrite files of the repository.
SHOTS = Path(os.environ.get("XC_SCREENSHOTS") or Path(tempfile.gettempdir()) / "xc-console-screenshots")
BIN = os.environ.get("XIANGCHAIN_BIN", "")
PASSWORD = "demo-password-2026"

pytestmark = pytest.mark.skipif(
    not BIN or not Path(BIN).exists() or shutil.which("chromedriver") is None,
    reason="needs XIANGCHAIN_BIN and chromium-driver",
)


class Devnet:
    """``xiangchain devnet --nodes 4 --demo [--suite S]`` as a subprocess; stopped with SIGINT."""

    def __init__(self, suite: str = "ed25519") -> None:
        self.suite = suite
        self.dir = Path(tempfile.mkdtemp(prefix="xc-console-"))
        self.base = free_block(4)
        self.url = f"http://127.0.0.1:{self.base}"
        self.log = open(self.dir / "devnet.out", "w")
        self.proc = subprocess.Popen(
            [BIN, "devnet", "--nodes", "4", "--dir", str(self.dir / "net"), "--base-port", str(self.base), "--demo",
             "--suite", suite],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        marker = self.dir / "net" / "demo.json"
        deadline = time.time() + 240
        while not marker.exists():
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("devnet --demo did not write demo.json:\n" + (self.dir / "devnet.out").read_text()[-4000:])
            time.sleep(0.5)
        time.sleep(0.5)  # the file is written whole; give the writer a moment to close it
        self.demo: Dict[str, Any] = json.loads(marker.read_text())

    def highlight(self, name: str) -> Dict[str, Any]:
        return next(h for h in self.demo["highlights"] if h["name"] == name)

    def local(self, uri: str) -> str:
        """The printed URI on this node: same path and ?s= secret, host 127.0.0.1:port."""
        u = urllib.parse.urlsplit(uri)
        return f"{self.url}{u.path}{'?' + u.query if u.query else ''}"

    def demo_orgs(self) -> list:
        genesis = json.loads((self.dir / "net" / "genesis.json").read_text())
        return [o["name"] for o in genesis["orgs"]]

    def org_of(self, actor: str) -> str:
        for i in self.demo.get("identities", []):
            if actor in (i.get("actor"), i.get("name")) or str(i.get("directory", "")).endswith("/" + actor):
                return i["org"]
        raise KeyError(actor)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        # Keep the logs of the last run for a failing test's reader.
        keep = Path(tempfile.gettempdir()) / "xc-console-last"
        shutil.rmtree(keep, ignore_errors=True)
        keep.mkdir()
        for log in [self.dir / "devnet.out", *sorted((self.dir / "net" / "nodes").glob("*/node.log"))]:
            if log.exists():
                shutil.copy(log, keep / (log.parent.name + "-" + log.name if log.name == "node.log" else log.name))
        shutil.rmtree(self.dir, ignore_errors=True)


_NET: Optional[Devnet] = None


def network() -> Devnet:
    """The module's one network, started on first use."""
    global _NET
    if _NET is None:
        _NET = Devnet()
    return _NET


@pytest.fixture(scope="module")
def net():
    yield network()
    global _NET
    if _NET is not None:
        _NET.stop()
        _NET = None


def make_browser(width: int, height: int):
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}"):
        opts.add_argument(a)
    if Path("/usr/bin/chromium").exists():
        opts.binary_location = "/usr/bin/chromium"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    d = webdriver.Chrome(options=opts, service=service)
    d.set_window_size(width, height)
    return d


@pytest.fixture
def phone():
    d = make_browser(375, 812)
    yield d
    d.quit()


@pytest.fixture
def desktop():
    d = make_browser(1280, 900)
    yield d
    d.quit()


def wait(d, css: str, timeout: float = 20):
    return WebDriverWait(d, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def open_code(d, uri: str, city: str = "苏州"):
    """Opens a code's verify page; in a browser that has no city yet the page asks first and checks
    nothing until one is chosen."""
    from selenium.webdriver.support.ui import Select

    d.get(uri)
    select = Select(d.find_element(By.ID, "city"))
    if not select.first_selected_option.get_attribute("value"):
        wait(d, "#pick-city")
        assert d.find_elements(By.CSS_SELECTOR, "#verdict") == []
        select.select_by_visible_text(city)
    return wait(d, "#verdict")


def severe(d):
    return [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]


def shot(d, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    d.save_screenshot(str(SHOTS / name))


# ------------------------------------------------------------------------------------------------
# Consumer


def test_genuine_ring_on_a_phone(net, phone):
    h = net.highlight("genuine-ring")
    assert h["expect"] == "genuine"
    # No default city: the page asks before the first check; the buyer is in 上海.
    verdict = open_code(phone, net.local(h["uri"]), h.get("city", "苏州"))
    assert verdict.get_attribute("data-status") == "genuine"
    assert "正品" in verdict.text
    story = wait(phone, "#story").text
    assert "养殖场" in story and "检测结果" in story and "合格" in story, story
    assert "阳澄湖" in story, story  # the farm's name and zone
    assert "商家" in story
    assert "含本次" in story, story  # the count includes this check
    assert phone.execute_script("return document.documentElement.scrollWidth") <= 375
    shot(phone, "verify-genuine-phone.png")
    # English on request, remembered.
    phone.find_element(By.ID, "lang").click()
    WebDriverWait(phone, 5).until(lambda d: "Genuine" in d.find_element(By.ID, "verdict").text)
    assert "Inspection" in phone.find_element(By.ID, "story").text
    phone.find_element(By.ID, "lang").click()
    assert severe(phone) == []


def test_forged_ring_is_never_issued(net, phone):
    h = net.highlight("forged-ring")
    verdict = open_code(phone, net.local(h["uri"]))
    assert verdict.get_attribute("data-status") == "unknown"
    assert "未登记" in verdict.text and "疑似伪造" in verdict.text
    assert phone.find_elements(By.CSS_SELECTOR, "#story") == []
    shot(phone, "verify-forged-phone.png")
    assert severe(phone) == []


def test_verdicts_of_the_other_demo_codes_and_the_code_box(net, phone):
    for name, word in (("redeemed-coupon", "已兑换"), ("recalled-lot-ring", "已召回"), ("cloned-ring", "可疑")):
        h = net.highlight(name)
        verdict = open_code(phone, net.local(h["uri"]), h.get("city", "苏州"))
        assert verdict.get_attribute("data-status") == h["expect"].split()[0], name
        assert word in verdict.text, name
    cloned = phone.find_element(By.ID, "reasons").text
    assert "两个城市" in cloned, cloned
    # The home page's code box: the short code with its #SECRET, city chosen and remembered. (Not the
    # genuine ring: checked in 上海 by the buyer and in 苏州 above, it is now rightly two_cities.)
    short = net.highlight("live-coupon")["shortCode"]
    phone.get(net.url + "/")
    from selenium.webdriver.support.ui import Select

    Select(phone.find_element(By.ID, "city")).select_by_visible_text("无锡")
    box = phone.find_element(By.ID, "code")
    box.send_keys(short)
    phone.find_element(By.CSS_SELECTOR, "#check button").click()
    assert wait(phone, "#verdict").get_attribute("data-status") == "genuine"
    assert Select(phone.find_element(By.ID, "city")).first_selected_option.text == "无锡"
    assert severe(phone) == []


def test_box_sticker_and_lot_code_on_the_consumer_page(net, phone):
    # The first ring of the demo lies in a box of lot N: both printed codes answer in Chinese.
    import re

    state = next(r["state"] for r in net.demo["rings"] if re.search(r"lot \S+, box \d{18}", r["state"]))
    lot, sscc = re.search(r"lot (\S+), box (\d{18})", state).groups()
    gtin = net.demo["rings"][0]["key"].split("/")[1]
    verdict = open_code(phone, f"{net.url}/00/{sscc}")
    assert verdict.get_attribute("data-status") in ("genuine", "suspicious", "recalled"), verdict.text
    story = wait(phone, "#story").text
    assert "蟹数" in story and "批次" in story and "养殖场" in story, story
    phone.get(f"{net.url}/01/{gtin}/10/{lot}")
    verdict = wait(phone, "#verdict")
    assert verdict.get_attribute("data-status") in ("genuine", "suspicious", "recalled"), verdict.text
    assert "检测结果" in wait(phone, "#story").text
    assert phone.find_elements(By.ID, "verify-error") == []
    shot(phone, "verify-box-phone.png")
    assert severe(phone) == []


def test_complaint_from_the_verify_page(net, phone):
    open_code(phone, net.local(net.highlight("forged-ring")["uri"]))
    phone.find_element(By.ID, "phone").send_keys("13800138000")
    phone.find_element(By.ID, "text").send_keys("假蟹扣，商家不认 13800138000")
    phone.find_element(By.CSS_SELECTOR, "#complaint button").click()
    out = wait(phone, "#complaint-result")
    assert "投诉已提交" in out.text, out.text


# Consumer coupon flows (issue 12, item 5): book and give with a one-time code read from the
# devnet's SMS outbox (node 0's sms.log).


def issued_coupons(net) -> list:
    """The demo's flagship coupons that are issued and not sold (no holder yet)."""
    return [c for c in net.demo["coupons"] if c["state"].endswith("3.0 liang × 8, issued")]


def last_code(net, to: str, after: int) -> str:
    """The 6-digit code of the newest message to `to` among the SMS outbox's lines past `after`."""
    import re

    log = net.dir / "net" / "nodes" / "0" / "sms.log"
    deadline = time.time() + 10
    while time.time() < deadline:
        lines = log.read_text().splitlines() if log.exists() else []
        for line in reversed(lines[after:]):
            m = json.loads(line)
            if m["to"] == to:
                return re.search(r"(?<!\d)(\d{6})(?!\d)", m["text"]).group(1)
        time.sleep(0.2)
    raise AssertionError(f"no code sent to {to}")


def unexpected(d):
    """Severe browser messages other than the coupon refusals the test provoked (a 422 answer)."""
    return [e for e in severe(d) if not ("/v1/coupons/" in e["message"] and "status of 422" in e["message"])]


def sms_count(net) -> int:
    log = net.dir / "net" / "nodes" / "0" / "sms.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def press(d, button: str) -> None:
    """Clicks a coupon button after clearing the previous outcome."""
    d.execute_script("document.getElementById('coupon-result').dataset.outcome = ''")
    d.find_element(By.ID, button).click()


def coupon_outcome(d, outcome: str):
    """The coupon box's message once the action ends (`action` or `action:error_code`)."""
    WebDriverWait(d, 30).until(lambda x: x.find_element(By.ID, "coupon-result").get_attribute("data-outcome"))
    out = d.find_element(By.ID, "coupon-result")
    assert out.get_attribute("data-outcome") == outcome, out.text
    return out.text


def test_consumer_books_a_coupon_with_a_code_on_a_phone(net, phone):
    coupon = issued_coupons(net)[0]
    verdict = open_code(phone, net.local(coupon["uri"]))
    assert verdict.get_attribute("data-status") == "genuine"
    wait(phone, "#coupon-actions")
    assert "预约提蟹" in phone.find_element(By.ID, "coupon-actions").text
    # The secret came with the QR code: the page does not ask for it.
    assert not phone.find_element(By.ID, "c-secret").is_displayed()
    # A wrong code first: a clear message, nothing booked.
    before = sms_count(net)
    phone.find_element(By.ID, "c-phone").send_keys("139 0013 9000")
    press(phone, "c-send")
    assert "验证码已发送至 +86 139****9000" in coupon_outcome(phone, "otp")
    code = last_code(net, "+8613900139000", before)
    wrong = "000000" if code != "000000" else "111111"
    phone.find_element(By.ID, "c-code").send_keys(wrong)
    press(phone, "c-book")
    assert "验证码不对" in coupon_outcome(phone, "book:otp_wrong")
    phone.find_element(By.ID, "c-code").clear()
    phone.find_element(By.ID, "c-code").send_keys(code)
    press(phone, "c-book")
    assert "预约成功：苏州" in coupon_outcome(phone, "book")
    assert phone.execute_script("return document.documentElement.scrollWidth") <= 375
    shot(phone, "verify-coupon-booked-phone.png")
    # On chain: booked, with the phone's salted hash only.
    q = urllib.parse.quote(coupon["uri"], safe="")
    v = json.loads(urllib.request.urlopen(f"{net.url}/v1/verify?code={q}&city=%E8%8B%8F%E5%B7%9E").read())
    assert v["details"]["status"] == "booked", v
    # Replaying the used code: refused in plain words.
    phone.find_element(By.ID, "c-code").send_keys(code)
    press(phone, "c-book")
    assert "验证码已失效" in coupon_outcome(phone, "book:otp_expired")
    assert unexpected(phone) == []


def test_consumer_gives_a_coupon_and_the_receiver_books_it_on_a_desktop(net, desktop):
    coupon = issued_coupons(net)[1]
    verdict = open_code(desktop, net.local(coupon["uri"]), "上海")
    assert verdict.get_attribute("data-status") == "genuine"
    desktop.find_element(By.ID, "lang").click()  # English
    WebDriverWait(desktop, 5).until(lambda d: "Book your crabs" in d.find_element(By.ID, "coupon-actions").text)
    before = sms_count(net)
    desktop.find_element(By.ID, "c-phone").send_keys("+86 137 0013 7000")
    press(desktop, "c-send")
    assert "Code sent to +86 137****7000" in coupon_outcome(desktop, "otp")
    code = last_code(net, "+8613700137000", before)
    desktop.find_element(By.CSS_SELECTOR, "#c-gift-box summary").click()
    desktop.find_element(By.ID, "c-to").send_keys("136 0013 6000")
    desktop.find_element(By.ID, "c-code").send_keys(code)
    press(desktop, "c-gift")
    assert "Given to +86 136****6000" in coupon_outcome(desktop, "transfer")
    shot(desktop, "verify-coupon-given-desktop.png")
    # The giver can no longer use it.
    desktop.find_element(By.ID, "c-phone").send_keys("13700137000")
    press(desktop, "c-send")
    assert "given to another phone" in coupon_outcome(desktop, "otp:not_holder")
    # The receiver books with a code sent to their own phone.
    desktop.find_element(By.ID, "lang").click()  # back to Chinese
    desktop.find_element(By.ID, "c-phone").clear()
    before = sms_count(net)
    desktop.find_element(By.ID, "c-phone").send_keys("13600136000")
    press(desktop, "c-send")
    coupon_outcome(desktop, "otp")
    desktop.find_element(By.ID, "c-code").send_keys(last_code(net, "+8613600136000", before))
    press(desktop, "c-book")
    assert "预约成功：上海" in coupon_outcome(desktop, "book")
    assert unexpected(desktop) == []


def test_use_my_location_picks_the_nearest_offered_city_or_asks(net, phone):
    # The browser allows the page a (coarse) position; the page turns it into a city itself.
    phone.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"], "origin": net.url})
    phone.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": 29.65, "longitude": 91.1, "accuracy": 50})
    phone.get(net.local(net.highlight("live-coupon")["uri"]))
    wait(phone, "#pick-city")
    assert "使用我的位置" in phone.find_element(By.ID, "locate").text
    # Far from every offered city (Lhasa): nothing checked, the page asks.
    phone.find_element(By.ID, "locate").click()
    note_el = wait(phone, "#locate-note")
    assert note_el.get_attribute("data-outcome") == "none" and "请手动选择" in note_el.text
    assert phone.find_elements(By.CSS_SELECTOR, "#verdict") == []
    # In Shanghai: the city is chosen and the code checked there.
    phone.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 50})
    phone.find_element(By.ID, "locate").click()
    verdict = wait(phone, "#verdict")
    assert verdict.get_attribute("data-status") == "genuine"
    from selenium.webdriver.support.ui import Select

    assert Select(phone.find_element(By.ID, "city")).first_selected_option.text == "上海"
    assert phone.find_element(By.ID, "locate-note").get_attribute("data-outcome") == "上海"
    # Only the city's name left the phone: the requests the page made carry no coordinates.
    urls = phone.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert not any("31.2" in u or "121.4" in u or "lat" in u for u in urls), urls
    assert severe(phone) == []


# ------------------------------------------------------------------------------------------------
# Explorer


def test_explorer_shows_height_and_verifies_a_proof(net, desktop):
    desktop.get(net.url + "/explorer")
    # The page redraws these as blocks arrive: an element found may be replaced before it is read.
    live = dict(ignored_exceptions=[StaleElementReferenceException])
    WebDriverWait(desktop, 20, **live).until(lambda d: (h := d.find_element(By.ID, "height").text).isdigit() and int(h) > 5)
    WebDriverWait(desktop, 20, **live).until(lambda d: d.find_element(By.ID, "mode").text == "bft")
    # Live updates come over the node's WebSocket stream of committed blocks.
    WebDriverWait(desktop, 15, **live).until(lambda d: d.find_element(By.ID, "live").text == "实时推送")
    rows = desktop.find_elements(By.CSS_SELECTOR, "#blocks tbody tr")
    assert rows
    shot(desktop, "explorer.png")
    committed = next(t for t in net.demo["transactions"] if t.get("status") == "committed" and t.get("txid"))
    desktop.get(f"{net.url}/explorer#/tx/{committed['txid']}")
    inc = wait(desktop, ".proof-inclusion", 30)
    assert inc.get_attribute("data-ok") == "true", inc.text
    sigs = wait(desktop, ".proof-sigs", 30)
    valid, quorum = int(sigs.get_attribute("data-valid") or 0), int(sigs.get_attribute("data-quorum") or 99)
    assert quorum == 3 and valid >= quorum, sigs.text
    assert "已验证" in sigs.text
    shot(desktop, "explorer-proof.png")
    # A WebAssembly call's recorded result value: the 三资 pond lease returns the lease record.
    lease = next(t for t in net.demo["transactions"] if t.get("step", "").startswith("三资: lease pond-12"))
    assert lease.get("status") == "committed", lease
    desktop.get(f"{net.url}/explorer#/tx/{lease['txid']}")
    # Folded away like the arguments: present, not visible until opened.
    result = WebDriverWait(desktop, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#tx-result pre")))
    assert '"tenantOrg"' in result.get_attribute("textContent"), result.get_attribute("textContent")
    # A failed (refused) transaction shows its error; a tampered proof does not verify.
    failed = next(t for t in net.demo["transactions"] if t.get("status") == "failed")
    desktop.get(f"{net.url}/explorer#/tx/{failed['txid']}")
    # The demo's refusals (over-issue, a frozen lot, the village's early payment): whichever
    # comes first, the page shows its code.
    assert failed.get("error"), failed
    WebDriverWait(desktop, 20).until(lambda d: failed["error"] in d.page_source)
    ok = desktop.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const txid = arguments[0];
        (async () => {
          const { verifyProof } = await import('/js/proof.js');
          const p = await (await fetch('/v1/txs/' + txid + '/proof')).json();
          const g = await (await fetch('/v1/genesis')).json();
          const good = await verifyProof(p, g);
          const bad = structuredClone(p);
          bad.txid = bad.txid.replace(/^./, c => c === '0' ? '1' : '0');
          const tampered = await verifyProof(bad, g);
          return [good.inclusion.ok, good.signatures.valid.length, tampered.inclusion.ok];
        })().then(done, e => done(String(e)));
        """,
        committed["txid"],
    )
    assert ok == [True, 4, False] or (ok[0] is True and ok[1] >= 3 and ok[2] is False), ok
    assert severe(desktop) == []


def test_desk_without_a_session_asks_to_sign_in(net, desktop):
    desktop.get(net.url + "/desk")
    assert "请先登录" in wait(desktop, "#need-signin").text
    shot(desktop, "desk.png")


# ------------------------------------------------------------------------------------------------
# Sign-in flows (need the session API)


def sign_in(d, net: Devnet, actor: str) -> None:
    org = net.org_of(actor)
    d.get(f"{net.url}/signin?org={org}")
    WebDriverWait(d, 10).until(lambda x: len(x.find_elements(By.CSS_SELECTOR, "#org option")) > 0)
    from selenium.webdriver.support.ui import Select

    Select(d.find_element(By.ID, "org")).select_by_value(org)
    d.find_element(By.ID, "username").send_keys(actor)
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "#signin button").click()


def gs1_check_digit(body: str) -> str:
    """`body` with its GS1 mod-10 check digit (weights 3, 1, … from the right)."""
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def crab_tx(net: Devnet, actor: str, method: str, args: Dict[str, Any]) -> Dict[str, Any]:
    """Signs a `crab` call as a demo actor with `xiangchain tx` and waits for it to commit."""
    ident = next(i["dir"] for i in net.demo["identities"] if i["actor"] == actor)
    r = subprocess.run(
        [BIN, "tx", "--identity", ident, "--contract", "crab", "--method", method, "--args", json.dumps(args), "--node", net.url],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, f"{method}: {r.stdout}{r.stderr}"
    return json.loads(r.stdout)


def test_merchant_issues_coupons_then_is_refused_beyond_stock(net, desktop):
    # Coupons promise only inspected crabs the shop holds, and the demo's are all promised: the farm
    # first ships a gift box of 8 more crabs of the inspected lot YC..-Z01 (rings 57–64) to the store.
    flagship = net.org_of("merchant-flagship")
    serials = [r["key"].rsplit("/", 1)[1] for r in net.demo["rings"][56:64]]
    sscc = gs1_check_digit("30952128000000001")
    crab_tx(net, "farm-zhang", "pack_box", {"sscc": sscc, "gtin": "09521234543213", "serials": serials})
    crab_tx(net, "farm-zhang", "ship", {"sscc": sscc, "to": flagship, "carrier": net.org_of("logistics-coldchain")})
    crab_tx(net, "logistics-coldchain", "hand_over", {"sscc": sscc})
    crab_tx(net, "merchant-flagship", "receive", {"sscc": sscc})

    sign_in(desktop, net, "merchant-flagship")
    WebDriverWait(desktop, 20).until(EC.url_contains("/workspace"))
    form = wait(desktop, "section[data-method=issue_coupons]")

    def issue(count: int, start: int):
        for name, value in (("from", str(start)), ("count", str(count))):
            el = form.find_element(By.NAME, name)
            el.clear()
            el.send_keys(value)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    issue(1, 9001)  # one coupon of 8 crabs: the box just received
    WebDriverWait(desktop, 60).until(lambda d: "已上链" in form.text or "被拒" in form.text)
    assert "已上链" in form.text, form.text
    shot(desktop, "workspace-merchant.png")
    issue(1, 9101)  # 8 crabs more than the shop holds
    WebDriverWait(desktop, 60).until(lambda d: "被拒" in form.text)
    assert "发券被拒：承诺的蟹数超过您收到的已检测蟹数" in form.text, form.text


def test_regulator_traces_the_redeemed_coupon(net, desktop):
    sign_in(desktop, net, "amr-suzhou")
    WebDriverWait(desktop, 20).until(EC.url_contains("/desk"))
    box = wait(desktop, "#code")
    box.send_keys(net.highlight("redeemed-coupon")["uri"])
    desktop.find_element(By.CSS_SELECTOR, "#trace button").click()
    wait(desktop, "#timeline", 30)
    for party in ("farm", "lab", "merchant", "logistics"):
        texts = desktop.find_elements(By.CSS_SELECTOR, f"#graph [data-party={party}] text")
        assert len(texts) >= 2, party  # the party's label and at least one signer
    desktop.find_element(By.CSS_SELECTOR, ".verify-step").click()
    assert wait(desktop, ".proof-out .proof-inclusion", 30).get_attribute("data-ok") == "true"
    shot(desktop, "desk.png")


# ------------------------------------------------------------------------------------------------
# Governance


def sign_in_as(d, url: str, org: str, username: str) -> None:
    """Signs in on the node at `url` (an org's accounts live on its own node)."""
    d.get(f"{url}/signin?org={org}")
    WebDriverWait(d, 10).until(lambda x: len(x.find_elements(By.CSS_SELECTOR, "#org option")) > 0)
    from selenium.webdriver.support.ui import Select

    Select(d.find_element(By.ID, "org")).select_by_value(org)
    d.find_element(By.ID, "username").send_keys(username)
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "#signin button").click()
    WebDriverWait(d, 20).until(lambda x: "/signin" not in x.current_url)


def test_org_admins_propose_and_approve_on_the_governance_page(net, desktop):
    # Anyone reads the configuration and the history; voting needs an org admin's session.
    desktop.get(net.url + "/governance")
    wait(desktop, "#orgs tbody tr")
    assert len(desktop.find_elements(By.CSS_SELECTOR, "#orgs tbody tr")) == len(net.demo_orgs())
    assert desktop.find_elements(By.CSS_SELECTOR, "button[data-vote]") == []

    # org0's admin proposes revoking a (made-up) certificate: an ordinary change, so more than
    # half of the 11 member orgs must approve; the proposer's org approves by proposing.
    fingerprint = "ab" * 32
    sign_in_as(desktop, net.url, "org0", "admin-org0")
    desktop.get(net.url + "/governance")
    form = wait(desktop, "#propose-form")
    from selenium.webdriver.support.ui import Select

    Select(form.find_element(By.NAME, "kind")).select_by_value("revoke")
    form.find_element(By.NAME, "fingerprints").send_keys(fingerprint)
    form.find_element(By.NAME, "description").send_keys("吊销遗失的测试证书")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(desktop, 60).until(lambda d: "已上链" in form.text or "被拒" in form.text)
    assert "已上链" in form.text, form.text
    card = wait(desktop, "#open article.proposal", 30)
    pid = card.get_attribute("data-id")
    assert "吊销 1 张证书" in card.text, card.text
    assert card.find_element(By.CSS_SELECTOR, ".tally").get_attribute("data-approvals") == "1"
    assert card.find_element(By.CSS_SELECTOR, ".tally").get_attribute("data-needed") == "6"
    assert card.find_elements(By.CSS_SELECTOR, "button[data-vote]") == []  # org0 has voted
    shot(desktop, "governance-open.png")

    # Four more orgs approve from the command line with their admins' identities.
    for org in ("org2", "org3", "org4", "org5"):
        out = subprocess.run(
            [BIN, "gov", "approve", pid, "--identity", str(net.dir / "net" / "identities" / f"{org}-admin"), "--node", net.url],
            capture_output=True, text=True, timeout=60,
        )
        assert out.returncode == 0, out.stdout + out.stderr

    # org1's admin casts the deciding vote in the console; the proposal moves to the history, applied.
    desktop.find_element(By.ID, "signout").click()
    WebDriverWait(desktop, 10).until(EC.url_contains("/signin"))
    # (the next admin's accounts are on their org's own node, node1)
    node1 = f"http://127.0.0.1:{net.base + 1}"
    sign_in_as(desktop, node1, "org1", "admin-org1")
    desktop.get(node1 + "/governance")
    card = wait(desktop, f"#open article.proposal[data-id='{pid}']", 30)
    assert card.find_element(By.CSS_SELECTOR, ".tally").get_attribute("data-approvals") == "5"
    card.find_element(By.CSS_SELECTOR, "button[data-vote=approve]").click()
    done = wait(desktop, f"#history article.proposal[data-id='{pid}'][data-status=applied]", 60)
    assert "已生效" in done.text, done.text
    config = json.loads(urllib.request.urlopen(net.url + "/v1/governance/config", timeout=10).read())
    assert fingerprint in config["config"]["revoked"]
    shot(desktop, "governance.png")


def test_regulator_filters_pages_and_closes_alerts_on_the_desk(net, desktop):
    from selenium.webdriver.support.ui import Select

    sign_in(desktop, net, "amr-suzhou")
    WebDriverWait(desktop, 20).until(EC.url_contains("/desk"))
    WebDriverWait(desktop, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#alerts tr[data-seq]")) > 0)
    seqs = [int(r.get_attribute("data-seq")) for r in desktop.find_elements(By.CSS_SELECTOR, "#alerts tr[data-seq]")]
    assert seqs == sorted(seqs, reverse=True), seqs  # newest first
    assert "共" in desktop.find_element(By.ID, "alert-count").text
    # Filter: the forged ring's never_issued alert only (closing it changes no verdict a later test reads).
    Select(desktop.find_element(By.ID, "alert-kind")).select_by_value("never_issued")
    WebDriverWait(desktop, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#alerts tr[data-seq]")
        and all("从未被登记" in r.text for r in d.find_elements(By.CSS_SELECTOR, "#alerts tr[data-seq]"))
    )
    rows = desktop.find_elements(By.CSS_SELECTOR, "#alerts tr[data-seq]")
    before = len(rows)
    # Nothing ticked: the desk says so and submits nothing.
    desktop.find_element(By.ID, "close-note").send_keys("伪造码已移交公安")
    desktop.find_element(By.CSS_SELECTOR, "#close-alerts button").click()
    assert "请先勾选" in wait(desktop, "#close-out").text
    rows[0].find_element(By.CSS_SELECTOR, ".pick").click()
    desktop.find_element(By.CSS_SELECTOR, "#close-alerts button").click()
    WebDriverWait(desktop, 60).until(lambda d: "已上链" in d.find_element(By.ID, "close-out").text)
    WebDriverWait(desktop, 20).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#alerts tr[data-seq]")) == before - 1)
    shot(desktop, "desk-alerts.png")
    assert severe(desktop) == []


# ------------------------------------------------------------------------------------------------
# 三资监管: the village disclosure (public) and the township reviewer's desk (signed in)


def query(net: Devnet, method: str, args: Dict[str, Any]):
    """POST /v1/wasm/contracts/sanzi/query as anyone: (status, answer)."""
    req = urllib.request.Request(
        f"{net.url}/v1/wasm/contracts/sanzi/query", data=json.dumps({"method": method, "args": args}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def no_sideways_scroll(d) -> None:
    width = d.execute_script("return document.documentElement.clientWidth")
    assert d.execute_script("return document.documentElement.scrollWidth") <= width + 1


def test_village_disclosure_on_a_phone_and_a_desktop(net, phone, desktop):
    v = net.demo["village"]
    # The printed link is the disclosure page of the demo village, on the node the demo used.
    assert v["disclosureURL"].endswith(f"/village?v={v['village']}")
    phone.get(f"{net.url}/village?v={v['village']}")
    assert "莲花村" in wait(phone, "#village-name", 30).text
    # Registers, the pond leased by bidding to the crab farm, the one leased without bidding.
    items = {r.get_attribute("data-id") for r in phone.find_elements(By.CSS_SELECTOR, "#items tr[data-id]")}
    assert {"pond-12", "pond-07", "land-east", "hall", "pump-01"} <= items, items
    lease = phone.find_element(By.CSS_SELECTOR, f"#leases tr[data-id='{v['pondLease']}']")
    assert v["pondFarmOrg"] in lease.text and "bid-pond-12" in lease.text, lease.text
    assert "未招标" in phone.find_element(By.CSS_SELECTOR, "#leases tr[data-id='lease-pond-07']").text
    # Spending: below the threshold approved at once, sp-02 approved at less than asked, sp-03 pending.
    assert "已批准" in phone.find_element(By.CSS_SELECTOR, "#spend tr[data-id='sp-01']").text
    sp02 = phone.find_element(By.CSS_SELECTOR, "#spend tr[data-id='sp-02']").text
    assert "180,000.00" in sp02 and "160,000.00" in sp02, sp02
    # Income and spending by month: March's rent, April's and May's payments, June's booked expense.
    months = {r.get_attribute("data-month") for r in phone.find_elements(By.CSS_SELECTOR, "#months tr[data-month]")}
    year = net.demo["season"]
    assert {f"{year}03", f"{year}04", f"{year}05", f"{year}06"} <= months, months
    march = phone.find_element(By.CSS_SELECTOR, f"#months tr[data-month='{year}03']").text
    assert "60,800.00" in march, march
    kinds = {r.get_attribute("data-kind") for r in phone.find_elements(By.CSS_SELECTOR, "#alerts tr[data-kind]")}
    assert {"payment_without_approval", "lease_without_bidding", "lease_below_reference", "lease_payment_overdue"} <= kinds, kinds
    assert "未经审批付款" in phone.find_element(By.ID, "alerts").text
    no_sideways_scroll(phone)
    shot(phone, "village-phone.png")
    # The same page on a desktop; an unknown village gets its refusal in plain words.
    desktop.get(f"{net.url}/village?v={v['village']}")
    wait(desktop, "#village-name", 30)
    no_sideways_scroll(desktop)
    shot(desktop, "village.png")
    desktop.get(f"{net.url}/village?v=no-such-village")
    err = wait(desktop, "#village-error", 30)
    assert err.get_attribute("data-code") == "not_found", err.get_attribute("data-code")
    assert severe(phone) == []


def test_reviewer_queue_is_not_public(net):
    # Anonymous queries see no role: the reviewer's queue is refused by the contract.
    status, answer = query(net, "reviewQueue", {})
    assert status >= 400 and answer["error"]["code"] in ("role_not_allowed", "forbidden"), answer
    # The console route needs a session.
    req = urllib.request.Request(
        f"{net.url}/v1/console/wasm/query", data=b'{"contract":"sanzi","method":"reviewQueue","args":{}}',
        headers={"Content-Type": "application/json"}, method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 401


def test_village_clerk_cannot_use_the_review_desk(net, phone):
    v = net.demo["village"]
    sign_in_as(phone, net.url, v["village"], v["clerkAccount"])
    phone.get(net.url + "/review")
    assert wait(phone, "#wrong-role").is_displayed()
    err = wait(phone, "#queue-error", 30)
    assert err.get_attribute("data-code") in ("role_not_allowed", "forbidden"), err.get_attribute("data-code")


def test_township_approves_rejects_and_resolves_on_the_review_desk(net, desktop):
    v = net.demo["village"]
    sign_in_as(desktop, net.url, v["township"], v["reviewerAccount"])
    desktop.get(net.url + "/review")
    card = wait(desktop, ".pending[data-id='sp-03']", 30)
    assert "村民活动中心屋面翻修" in card.text and "86,000.00" in card.text, card.text
    wait(desktop, ".pending[data-id='dp-01']")
    alerts = desktop.find_elements(By.CSS_SELECTOR, "#alerts .alert")
    kinds = {a.get_attribute("data-kind") for a in alerts}
    assert {"payment_without_approval", "lease_without_bidding", "lease_payment_overdue"} <= kinds, kinds
    shot(desktop, "review.png")

    # Approve sp-03 at 80 000 yuan (less than asked).
    amount = card.find_element(By.CSS_SELECTOR, ".approved")
    amount.clear()
    amount.send_keys("80000")
    card.find_element(By.CSS_SELECTOR, ".comment").send_keys("按审定预算核减")
    card.find_element(By.CSS_SELECTOR, ".approve").click()
    WebDriverWait(desktop, 60).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, ".pending[data-id='sp-03']")
        or "被拒" in d.find_element(By.CSS_SELECTOR, ".pending[data-id='sp-03']").text)
    assert not desktop.find_elements(By.CSS_SELECTOR, ".pending[data-id='sp-03']")
    _, sp03 = query(net, "get", {"village": v["village"], "kind": "spend", "id": "sp-03"})
    assert sp03["result"]["status"] == "approved" and sp03["result"]["approvedFen"] == 8_000_000, sp03

    # Reject the pump's disposal.
    desktop.find_element(By.CSS_SELECTOR, ".pending[data-id='dp-01'] .reject").click()
    WebDriverWait(desktop, 60).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".pending[data-id='dp-01']"))
    _, dp01 = query(net, "get", {"village": v["village"], "kind": "disposal", "id": "dp-01"})
    assert dp01["result"]["status"] == "rejected", dp01
    wait(desktop, "#no-pending")

    # Resolve the booked-expense alert with a note.
    alert = desktop.find_element(By.CSS_SELECTOR, "#alerts .alert[data-kind='payment_without_approval']")
    seq = alert.get_attribute("data-seq")
    alert.find_element(By.CSS_SELECTOR, ".note-in").send_keys("已补办村民代表会议决议")
    alert.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(desktop, 60).until(lambda d: not d.find_elements(By.CSS_SELECTOR, f"#alerts .alert[data-seq='{seq}']"))
    _, resolved = query(net, "get", {"village": v["village"], "kind": "alert", "id": seq})
    assert resolved["result"]["status"] == "resolved", resolved
    # The disclosure shows the decision.
    desktop.get(f"{net.url}/village?v={v['village']}")
    row = wait(desktop, "#spend tr[data-id='sp-03']", 30)
    assert "已批准" in row.text and "80,000.00" in row.text, row.text
    assert severe(desktop) == []


def test_crab_from_the_leased_pond_links_to_its_lease(net, phone):
    # 陆永根's lot comes from 莲花岛12号塘, the pond the village leased to the farm: the consumer's
    # page names the lease and opens the village's disclosure.
    v = net.demo["village"]
    open_code(phone, net.local(net.highlight("recalled-lot-ring")["uri"]))
    link = wait(phone, "#pond-lease")
    assert link.text == v["pondLease"], link.text
    link.click()
    row = wait(phone, f"#leases tr[data-id='{v['pondLease']}']", 30)
    assert v["pondFarmOrg"] in row.text, row.text
