"""Issue 12 item 10: the console covers each role's real job, in a real browser (Selenium +
headless Chromium) against a real four-validator ``devnet --demo`` of its own.

Sign-in by company name; every role page in Chinese (no field name left in English); and the
season's work done through the pages only, once on a 375 px phone and once on a desktop: the
association commissions and allocates rings (ranges, not JSON) and adds a shop's staff account,
the farm tags a harvest (ranges with sex and weight, its zone picked from a list), the lab
inspects the lot (the report hashed in the browser), the farm packs (a serial scanned) and ships
naming the carrier, the carrier hands the box over, the shop receives it, sees its stock, issues,
refunds, sells and redeems a booked coupon (an unbooked one refused) and ships to the buyer, the
carrier delivers, and the regulator freezes/unfreezes and recalls a lot, a ring and a coupon,
suspends and reinstates a member and closes alerts.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Dict, List

import pytest

from test_console import PASSWORD, Devnet, crab_tx, make_browser, pytestmark, severe, shot, wait  # noqa: F401

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

GTIN = "09521234543213"

# Every argument name a role page may show as a field: none may be shown as is in Chinese mode.
FIELD_KEYS = [
    "org", "role", "name", "licence", "areaMu", "zone", "salesRegion", "gln", "season", "opensAt", "closesAt",
    "capPerMu", "couponValidityDays", "sizes", "maxScans", "scanWindowHours", "lateScanDays", "shipWithinDays",
    "breakerPercent", "crabs", "gtin", "from", "count", "prefix", "serials", "lot", "pond", "harvestedAt", "rings",
    "sscc", "to", "carrier", "result", "residues", "reportHash", "gcnBase", "sizeLiang", "crabsPerCoupon", "gcn",
    "toHolderHash", "reason", "username", "idNumber", "phone", "password", "note", "target", "number", "seqs",
    "pass", "fail", "farm", "merchant", "lab", "logistics", "association", "regulator", "consumer", "lot", "ring",
    "coupon", "active", "suspended",
]
METHODS = [
    "register_member", "open_season", "grant_quota", "commission_rings", "allocate_rings", "tag_harvest", "inspect_lot",
    "pack_box", "ship", "hand_over", "receive", "issue_coupons", "sell_coupon", "redeem", "refund_coupon", "freeze_lot",
    "unfreeze_lot", "recall", "suspend_member", "reinstate_member", "close_alerts", "accounts",
]
UNTRANSLATED = {k.lower() for k in FIELD_KEYS + METHODS}


@pytest.fixture(scope="module")
def net():
    n = Devnet()
    yield n
    n.stop()


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


def members(net: Devnet) -> Dict[str, Dict]:
    with urllib.request.urlopen(f"{net.url}/v1/crab/members", timeout=10) as r:
        return {m["org"]: m for m in json.loads(r.read())["members"]}


def console_of(net: Devnet, actor: str) -> str:
    """The node whose console holds the actor's account (its org's node, or the hosting node 0)."""
    doc = json.loads((net.dir / "net" / "console-accounts.json").read_text())
    row = next((a for a in doc["accounts"] if a["username"] == actor), None)
    port = urllib.parse.urlsplit(row["console"]).port if row else None
    return f"http://127.0.0.1:{port}" if port else net.url


def sign_in_by_name(d, net: Devnet, actor: str, company: str) -> str:
    """Signs in choosing the company by its name, as a member's staff does; returns the node's URL."""
    url = console_of(net, actor)
    d.get(f"{url}/signin")
    WebDriverWait(d, 20).until(lambda x: len(x.find_elements(By.CSS_SELECTOR, "#org option")) > 1)
    Select(d.find_element(By.ID, "org")).select_by_visible_text(company)
    d.find_element(By.ID, "username").send_keys(actor)
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "#signin button").click()
    WebDriverWait(d, 20).until(lambda x: "/signin" not in x.current_url)
    return url


def company(net: Devnet, actor: str) -> str:
    return members(net)[net.org_of(actor)]["name"]


def form(d, method: str):
    return wait(d, f"section[data-method={method}]")


def fill(card, values: Dict[str, str]) -> None:
    for name, value in values.items():
        el = card.find_element(By.NAME, name)
        if el.tag_name == "select":
            sel = Select(el)
            try:
                sel.select_by_visible_text(value)
            except Exception:
                sel.select_by_value(value)
        else:
            el.clear()
            el.send_keys(value)


def submit(d, card, expect: str = "committed", timeout: float = 60) -> str:
    """Submits the card's form; waits for its outcome and checks it (committed, or the refusal's code)."""
    out = card.find_element(By.CSS_SELECTOR, "[data-out]")
    d.execute_script("arguments[0].removeAttribute('data-status'); arguments[0].hidden = true;", out)
    card.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(d, timeout).until(lambda x: out.get_attribute("data-status") not in (None, "", "pending"))
    status = out.get_attribute("data-status")
    if expect == "committed":
        assert status in ("committed", "created"), f"{card.get_attribute('data-method')}: {out.text}"
    else:
        assert out.get_attribute("data-code") == expect, f"{card.get_attribute('data-method')}: {status} {out.text}"
    return out.text


def no_sideways_scroll(d) -> None:
    width = d.execute_script("return document.documentElement.clientWidth")
    assert d.execute_script("return document.documentElement.scrollWidth") <= width + 1


def sign_out(d) -> None:
    d.find_element(By.ID, "signout").click()
    WebDriverWait(d, 10).until(EC.url_contains("/signin"))


# ------------------------------------------------------------------------------------------------


def test_sign_in_lists_companies_by_name_and_pages_name_orgs(net, phone):
    phone.get(f"{net.url}/signin")
    WebDriverWait(phone, 20).until(lambda x: len(x.find_elements(By.CSS_SELECTOR, "#org option")) > 1)
    options = {o.get_attribute("value"): o.text for o in phone.find_elements(By.CSS_SELECTOR, "#org option") if o.get_attribute("value")}
    named = members(net)
    assert set(options) == set(net.demo_orgs())
    for org, m in named.items():
        assert options[org] == m["name"], (org, options[org])
    # The lab is its name, not org6; an org that is no crab member shows its role with its id.
    lab = net.org_of("lab-qc")
    assert options[lab] == "苏州市水产品质量检测中心"
    assert not any(re.fullmatch(r"org\d+", text) for text in options.values()), options
    assert options[net.org_of("assoc-secretariat")].startswith("行业协会")
    sign_in_by_name(phone, net, "lab-qc", "苏州市水产品质量检测中心")
    assert wait(phone, "#org-name").text == "苏州市水产品质量检测中心"
    no_sideways_scroll(phone)
    assert severe(phone) == []


@pytest.mark.parametrize(
    "actor,page,cards",
    [
        ("assoc-secretariat", "/workspace", ["register_member", "open_season", "grant_quota", "commission_rings", "allocate_rings", "accounts"]),
        ("farm-zhang", "/workspace", ["tag_harvest", "pack_box", "ship"]),
        ("lab-qc", "/workspace", ["inspect_lot"]),
        ("merchant-flagship", "/workspace", ["receive", "issue_coupons", "sell_coupon", "redeem", "refund_coupon", "pack_box", "ship"]),
        ("logistics-coldchain", "/workspace", ["receive", "hand_over", "ship"]),
        ("amr-suzhou", "/desk", ["freeze_lot", "unfreeze_lot", "recall", "suspend_member", "reinstate_member"]),
    ],
)
def test_every_role_page_is_in_chinese(net, desktop, actor, page, cards):
    url = sign_in_by_name(desktop, net, actor, _org_label(desktop, net, actor))
    desktop.get(url + page)
    for method in cards:
        form(desktop, method)
    if actor == "merchant-flagship":
        wait(desktop, "#stock tbody tr")
    if actor == "assoc-secretariat":
        wait(desktop, "#members tr[data-org]")
        wait(desktop, "#account-list table")
    texts = []
    for css in ("label", "h1", "h2", "button", "option", "th", "#account", ".hint"):
        texts += [e.get_attribute("textContent").strip() for e in desktop.find_elements(By.CSS_SELECTOR, css)]
    left = [x for x in texts if x.lower().rstrip("?") in UNTRANSLATED or re.fullmatch(r"[a-z]+(_[a-z]+)+|[a-z]+[A-Z]\w*", x)]
    assert left == [], f"untranslated on {page} as {actor}: {left}"
    # Every label has a Chinese character.
    labels = [e.get_attribute("textContent") for e in desktop.find_elements(By.CSS_SELECTOR, "form label")]
    assert labels and all(re.search(r"[\u4e00-\u9fff]", x) for x in labels), labels
    if net.org_of(actor) in members(net):
        assert company(net, actor) in desktop.find_element(By.ID, "account").text
    assert severe(desktop) == []


def _org_label(d, net: Devnet, actor: str) -> str:
    """The sign-in option text of the actor's org (its member name, or its role and id)."""
    org = net.org_of(actor)
    d.get(f"{console_of(net, actor)}/signin")
    WebDriverWait(d, 20).until(lambda x: len(x.find_elements(By.CSS_SELECTOR, "#org option")) > 1)
    return d.find_element(By.CSS_SELECTOR, f"#org option[value='{org}']").text


def csv_of(d, kind: str) -> List[Dict[str, str]]:
    href = wait(d, f"a[download='{kind}.csv']").get_attribute("href")
    text = urllib.parse.unquote(href.split(",", 1)[1])
    head, *rows = [r for r in text.splitlines() if r]
    keys = head.split(",")
    return [dict(zip(keys, r.split(","))) for r in rows]


def secret_hash(key: str, secret: str) -> str:
    return hashlib.sha256(b"XIANGCHAIN-CODE-V1\x00" + key.encode() + b"\x00" + secret.encode()).hexdigest()


def stock_free(d, size: str = "3.0") -> int:
    return int(wait(d, f"#stock tr[data-size='{size}'] .free").text)


@pytest.mark.parametrize("width", [375, 1280])
def test_the_season_through_every_role_page(net, width):
    d = make_browser(width, 900)
    try:
        season_through_every_role(net, d, 0 if width == 375 else 1)
        assert severe(d) == []
    finally:
        d.quit()


def season_through_every_role(net: Devnet, d, k: int) -> None:
    named = members(net)
    name = {actor: named[net.org_of(actor)]["name"] for actor in
            ("farm-zhang", "merchant-flagship", "merchant-online", "lab-qc", "logistics-coldchain")}
    prefix = f"ZK{k}"
    serial = lambda n: f"{prefix}{n:06d}"  # noqa: E731
    lot = f"YC-T{k}{width_tag(d)}"
    sscc17 = f"309521280000{k}0001"
    sscc = sscc17 + check_digit(sscc17)

    # The association: commission 8 rings, allocate them to 张's farm as a range, add a shop account.
    sign_in_by_name(d, net, "assoc-secretariat", _org_label(d, net, "assoc-secretariat"))
    d.get(net.url + "/workspace")
    assert "张建国家庭农场" in wait(d, "#members").text
    wait(d, "#ws-alerts tr[data-seq]")
    commission = form(d, "commission_rings")
    fill(commission, {"from": "1", "count": "8", "prefix": prefix})
    submit(d, commission)
    assert len(csv_of(d, "rings")) == 8
    allocate = form(d, "allocate_rings")
    fill(allocate, {"org": name["farm-zhang"], "serials": f"{serial(1)}-{serial(8)}"})
    submit(d, allocate)
    accounts = form(d, "accounts")
    wait(d, "#account-list tr[data-user='merchant-flagship']")
    fill(accounts, {"org": name["merchant-flagship"], "username": f"clerk-{k}", "name": "柜台 小周", "idNumber": "320500199201015555",
                    "phone": "13912340000", "password": "clerk password 2026"})
    submit(d, accounts)
    wait(d, f"#account-list tr[data-user='clerk-{k}']")
    # Only registered members' staff: not the regulator's, the village's or the township's accounts.
    listed = d.find_element(By.ID, "account-list").text
    assert "amr-suzhou" not in listed and "township-yangchenghu" not in listed, listed
    no_sideways_scroll(d)
    shot(d, f"workspace-association-{d.get_window_size()['width']}.png")
    sign_out(d)

    # The farm: tag by ranges with sex and weight, zone picked from the list; pack (one serial scanned); ship.
    sign_in_by_name(d, net, "farm-zhang", name["farm-zhang"])
    tag = form(d, "tag_harvest")
    assert Select(tag.find_element(By.NAME, "zone")).first_selected_option.text == named[net.org_of("farm-zhang")]["zone"]
    fill(tag, {"lot": lot, "pond": "东湖3号围网", "rings": f"{serial(1)}-{serial(4)} 公 250\n{serial(5)}-{serial(8)} 母 210"})
    submit(d, tag)
    shot(d, f"workspace-farm-{d.get_window_size()['width']}.png")
    sign_out(d)

    # The lab: inspect the lot, the report hashed in the browser.
    report = Path(tempfile.mkdtemp()) / "report.pdf"
    report.write_bytes(b"%PDF-1.4 report of lot " + lot.encode())
    sign_in_by_name(d, net, "lab-qc", name["lab-qc"])
    inspect = form(d, "inspect_lot")
    fill(inspect, {"lot": lot, "result": "合格", "residues": "恩诺沙星=0\n孔雀石绿=0"})
    inspect.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(report))
    WebDriverWait(d, 10).until(
        lambda x: inspect.find_element(By.NAME, "reportHash").get_attribute("value") == hashlib.sha256(report.read_bytes()).hexdigest())
    submit(d, inspect)
    sign_out(d)

    sign_in_by_name(d, net, "farm-zhang", name["farm-zhang"])
    pack = form(d, "pack_box")
    fill(pack, {"sscc": sscc17, "serials": f"{serial(1)}-{serial(7)}"})
    scan = pack.find_element(By.CSS_SELECTOR, "input.scan")
    scan.send_keys(f"https://id.xiangchain.example/01/{GTIN}/21/{serial(8)}?s=ABCDEFGH\n")
    assert pack.find_element(By.NAME, "serials").get_attribute("value").endswith(serial(8))
    submit(d, pack)
    ship = form(d, "ship")
    fill(ship, {"sscc": sscc, "to": name["merchant-flagship"], "carrier": name["logistics-coldchain"]})
    submit(d, ship)
    sign_out(d)

    # The carrier hands the box over to the shop (it signs that leg).
    sign_in_by_name(d, net, "logistics-coldchain", name["logistics-coldchain"])
    hand = form(d, "hand_over")
    fill(hand, {"sscc": f"(00){sscc}"})  # the sticker scanned
    submit(d, hand)
    sign_out(d)

    # The shop: receive, stock grows by 8 at 3.0 liang; issue one coupon of 8, refund it, issue
    # another, sell it; redeeming it unbooked is refused; booked (by the buyer), it is redeemed.
    sign_in_by_name(d, net, "merchant-flagship", name["merchant-flagship"])
    before = stock_free(d)
    receive = form(d, "receive")
    fill(receive, {"sscc": sscc})
    submit(d, receive)
    WebDriverWait(d, 20).until(lambda x: stock_free(x) == before + 8)
    d.execute_script("document.getElementById('stock').scrollIntoView()")
    shot(d, f"workspace-merchant-stock-{d.get_window_size()['width']}.png")
    issue = form(d, "issue_coupons")
    start = 9301 + 10 * k
    fill(issue, {"from": str(start), "count": "1", "sizeLiang": "3.0", "crabsPerCoupon": "8"})
    submit(d, issue)
    first = csv_of(d, "coupons")[0]
    WebDriverWait(d, 20).until(lambda x: stock_free(x) == before)
    refund = form(d, "refund_coupon")
    fill(refund, {"gcn": first["short_code"], "reason": "顾客改买礼盒"})
    submit(d, refund)
    WebDriverWait(d, 20).until(lambda x: stock_free(x) == before + 8)
    fill(issue, {"from": str(start + 1), "count": "1"})
    submit(d, issue)
    WebDriverWait(d, 20).until(lambda x: csv_of(x, "coupons")[0]["key"] != first["key"])
    coupon = csv_of(d, "coupons")[0]
    gcn = coupon["key"].split("/")[1]
    sell = form(d, "sell_coupon")
    fill(sell, {"gcn": coupon["uri"]})
    submit(d, sell)
    redeem = form(d, "redeem")
    fill(redeem, {"gcn": gcn, "sscc": sscc})
    text = submit(d, redeem, expect="not_booked")
    assert "消费者尚未预约兑换" in text, text
    crab_tx(net, "consumer-li", "book_redemption",
            {"gcn": gcn, "secretHash": secret_hash(coupon["key"], coupon["secret"]), "phoneHash": "ab" * 32, "city": "苏州"})
    submit(d, redeem)
    ship = form(d, "ship")
    fill(ship, {"sscc": sscc, "to": "消费者（直接送达）", "carrier": name["logistics-coldchain"]})
    submit(d, ship)
    no_sideways_scroll(d)
    sign_out(d)

    # The carrier delivers to the buyer.
    sign_in_by_name(d, net, "logistics-coldchain", name["logistics-coldchain"])
    receive = form(d, "receive")
    fill(receive, {"sscc": sscc})
    submit(d, receive)
    sign_out(d)

    # The regulator: freeze and unfreeze the lot, recall a ring, a coupon and a lot; suspend and
    # reinstate a member picked by name; close an alert with a reason.
    sign_in_by_name(d, net, "amr-suzhou", _org_label(d, net, "amr-suzhou"))
    WebDriverWait(d, 20).until(EC.url_contains("/desk"))
    freeze = form(d, "freeze_lot")
    fill(freeze, {"lot": lot, "reason": "水质复检"})
    submit(d, freeze)
    unfreeze = form(d, "unfreeze_lot")
    fill(unfreeze, {"lot": lot, "reason": "复检合格"})
    submit(d, unfreeze)
    recall = form(d, "recall")
    fill(recall, {"target": "单只蟹扣", "number": f"(01){GTIN}(21){serial(1)}", "reason": "蟹扣破损"})
    submit(d, recall)
    demo_coupon = [c for c in net.demo["coupons"] if c["state"].endswith(", issued") and "flagship" in c["state"]][k]
    fill(recall, {"target": "蟹券", "number": demo_coupon["shortCode"], "reason": "商家停业"})
    submit(d, recall)
    fill(recall, {"target": "整批", "number": lot, "reason": "抽检不合格"})
    submit(d, recall)
    suspend = form(d, "suspend_member")
    fill(suspend, {"org": name["merchant-online"], "reason": "超范围经营"})
    submit(d, suspend)
    assert members(net)[net.org_of("merchant-online")]["suspended"] is True
    reinstate = form(d, "reinstate_member")
    fill(reinstate, {"org": name["merchant-online"], "reason": "整改完成"})
    submit(d, reinstate)
    assert members(net)[net.org_of("merchant-online")]["suspended"] is False
    WebDriverWait(d, 30).until(lambda x: x.find_elements(By.CSS_SELECTOR, "#alerts tr[data-seq]"))
    d.find_elements(By.CSS_SELECTOR, "#alerts tr[data-seq] .pick")[0].click()
    d.find_element(By.ID, "close-note").send_keys("已核实处理")
    d.find_element(By.CSS_SELECTOR, "#close-alerts button").click()
    WebDriverWait(d, 60).until(lambda x: "已上链" in x.find_element(By.ID, "close-out").text)
    # The trace of the redeemed coupon names each party by its company name.
    box = d.find_element(By.ID, "code")
    box.clear()
    box.send_keys(f"(255){gcn}")
    d.find_element(By.CSS_SELECTOR, "#trace button").click()
    timeline = wait(d, "#timeline", 30).text
    for who in (name["farm-zhang"], name["lab-qc"], name["merchant-flagship"], name["logistics-coldchain"]):
        assert who in timeline, (who, timeline)
    no_sideways_scroll(d)
    shot(d, f"desk-actions-{d.get_window_size()['width']}.png")


def check_digit(body: str) -> str:
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def width_tag(d) -> str:
    return "P" if d.get_window_size()["width"] < 760 else "D"
