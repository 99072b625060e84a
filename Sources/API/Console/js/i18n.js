// Chinese by default, English on request; the choice is kept in localStorage ("xc.lang").
const zh = {
  "app.name": "相城链", "app.tag": "阳澄湖大闸蟹 防伪溯源",
  "nav.home": "验真", "nav.explorer": "区块浏览器", "nav.workspace": "工作台", "nav.desk": "监管台",
  "nav.signin": "登录", "nav.signout": "退出", "lang.switch": "English",
  "home.title": "查验蟹扣或蟹券", "home.lead": "扫描蟹扣上的二维码，或输入印在蟹扣、蟹券上的码。",
  "home.placeholder": "例如 (01)09521234543213(21)YC2600001#K7Q2M9XA", "home.check": "查验",
  "home.more": "联盟链上每一只蟹的来历都可查、可证。",
  "city.label": "您所在的城市", "city.other": "其他", "city.choose": "请选择城市",
  "verify.pickcity": "请先选择您所在的城市，再查验。",
  "verify.title": "查验结果", "verify.loading": "正在链上查验…", "verify.again": "重新查验",
  "verify.nocode": "没有要查验的码。", "verify.code": "码",
  "v.genuine": "正品", "v.genuine.sub": "此码已在联盟链登记，来历清楚。",
  "v.unknown": "未登记 · 疑似伪造", "v.unknown.sub": "链上查不到与此码相符的登记。请勿购买或食用，可向监管部门投诉。",
  "v.redeemed": "已兑换", "v.redeemed.sub": "此蟹券已经兑换过，不能再次使用。",
  "v.recalled": "已召回", "v.recalled.sub": "此批次已被监管部门召回。请勿食用，联系商家退换。",
  "v.suspicious": "可疑", "v.suspicious.sub": "此码已登记，但有以下异常：",
  "r.never_issued": "这个码从未被登记发放", "r.secret_missing": "码里缺少防伪密码（二维码不完整）",
  "r.secret_mismatch": "防伪密码不符：可能是复制的假码", "r.recalled": "已被召回",
  "r.two_cities": "同一个码24小时内在两个城市被查验，可能被复制", "r.out_of_region": "在商家销售区域之外被查验",
  "r.too_many_scans": "查验次数过多，可能被复制", "r.lot_frozen": "该批次被监管部门冻结，待复检",
  "r.inspection_failed": "该批次检测不合格", "r.not_inspected": "该批次尚未检测",
  "r.not_tagged": "蟹扣尚未挂到蟹上", "r.coupon_expired": "蟹券已过期", "r.coupon_refunded": "蟹券已退款",
  "r.merchant_suspended": "商家已被暂停资格", "r.farm_suspended": "养殖户已被暂停资格",
  "r.capacity_exhausted": "超出养殖产能", "r.not_shipped": "未按时发货", "r.late_scan": "过季后才被查验",
  "story.title": "这只蟹的来历", "story.farm": "养殖场", "story.zone": "养殖区域", "story.pond": "塘口",
  "story.harvest": "捕捞日期", "story.lot": "批次", "story.sex": "性别", "story.weight": "重量",
  "story.inspection": "检测结果", "story.pass": "合格", "story.fail": "不合格", "story.lab": "检测机构",
  "story.merchant": "商家", "story.scans": "查验次数", "story.scansN": "{n} 次（含本次）", "story.firstScan": "首次查验",
  "story.never": "这是第一次查验", "story.coupon": "蟹券", "story.size": "规格", "story.sizeV": "{size} 两 × {n} 只",
  "story.validUntil": "有效期至", "story.redeemedAt": "兑换时间", "story.box": "礼盒", "story.season": "蟹季",
  "sex.male": "公蟹", "sex.female": "母蟹", "story.asOf": "链上高度 {h}",
  "complain.title": "投诉与举报", "complain.phone": "手机号（必填，仅监管部门可见）", "complain.text": "情况说明",
  "complain.send": "提交投诉", "complain.ok": "投诉已提交，记录编号 {txid}", "complain.err": "提交失败：{msg}",
  "ex.title": "区块浏览器", "ex.status": "链状态", "ex.height": "区块高度", "ex.mode": "模式", "ex.round": "共识轮次",
  "ex.leader": "主节点", "ex.peers": "已连接节点", "ex.quorum": "法定数", "ex.healthy": "健康", "ex.stalled": "停滞原因",
  "ex.sync": "同步", "ex.blocks": "最新区块", "ex.block": "区块", "ex.txs": "交易数", "ex.time": "时间",
  "ex.proposer": "出块节点", "ex.tx": "交易", "ex.status.committed": "已上链", "ex.status.failed": "执行失败",
  "ex.status.pending": "待上链", "ex.method": "方法", "ex.signer": "签名者", "ex.args": "参数", "ex.error": "错误",
  "ex.proof": "包含证明", "ex.verify": "在浏览器中验证", "ex.verifying": "验证中…",
  "ex.inclusion.ok": "默克尔路径验证通过：交易在区块 {h} 中", "ex.inclusion.bad": "默克尔路径验证失败：{why}",
  "ex.sigs": "已验证 {n} / 法定数 {q} 个签名", "ex.epochs.ok": "验证人集合自创世以来变更 {n} 次，每次均由前一集合的法定多数签署",
  "ex.epochs.bad": "验证人集合变更链无效：{why}", "ex.sigs.unsupported": "此浏览器不支持 Ed25519，未验证签名",
  "ex.sigs.suite": "签名算法 {suite} 暂不支持在浏览器验证",
  "ex.live.poll": "每 2 秒刷新", "ex.live.stream": "实时推送", "ex.search": "区块高度或交易哈希", "ex.go": "查找",
  "ex.back": "返回", "ex.yes": "是", "ex.no": "否", "ex.signatures": "签名",
  "si.title": "联盟成员登录", "si.org": "机构", "si.username": "用户名", "si.password": "密码", "si.submit": "登录",
  "si.ok": "已登录：{name}（{role}）",
  "err.bad_credentials": "用户名或密码错误", "err.too_many_requests": "尝试次数过多，请稍后再试",
  "err.account_suspended": "账号已停用", "err.unauthorized": "请先登录",
  "err.paper_crabs": "承诺的蟹数超过您的库存", "err.quota_exceeded": "超过养殖面积允许的捕捞量",
  "err.lot_frozen": "该批次已被冻结", "err.ring_reused": "蟹扣已被使用过", "err.ring_not_allocated": "蟹扣未分配给您",
  "err.unknown_ring": "没有这个蟹扣", "err.out_of_season": "不在蟹季时间内", "err.wrong_zone": "养殖区域不符",
  "err.unknown_season": "没有这个蟹季", "err.not_a_member": "您的机构不是登记成员", "err.member_suspended": "您的机构已被暂停",
  "err.role_not_allowed": "您的角色无权执行此操作", "err.bad_args": "填写的内容有误", "err.not_found": "未找到",
  "err.already_exists": "已经存在", "err.network": "网络错误", "err.generic": "操作被拒",
  "ws.title": "工作台", "ws.need": "请先登录。", "ws.submit": "提交上链", "ws.committed": "已上链：区块 {h}，交易 {txid}",
  "ws.pending": "已提交，等待上链：{txid}", "ws.refused": "{what}被拒：{why}", "ws.codes": "打印码页",
  "desk.title": "监管台", "desk.search": "输入蟹扣、蟹券、礼盒或批次码", "desk.trace": "追溯",
  "desk.timeline": "责任链", "desk.graph": "流转图", "desk.alerts": "未处理告警", "desk.complaints": "投诉",
  "desk.actions": "处置", "desk.freeze": "冻结批次", "desk.recall": "召回批次", "desk.suspend": "暂停成员",
  "desk.reason": "原因", "desk.none": "暂无", "desk.verifyStep": "验证",
  "party.farm": "养殖", "party.lab": "检测", "party.merchant": "商家", "party.logistics": "物流", "party.consumer": "消费者",
  "role.association": "行业协会", "role.farm": "养殖户", "role.lab": "检测机构", "role.merchant": "商家",
  "role.logistics": "物流", "role.regulator": "市场监管", "role.admin": "管理员",
  "m.register_member": "登记成员", "m.open_season": "开蟹季", "m.grant_quota": "核定券额度", "m.commission_rings": "蟹扣赋码",
  "m.tag_harvest": "捕捞挂扣", "m.inspect_lot": "批次检测", "m.issue_coupons": "发券", "m.sell_coupon": "售券",
  "m.redeem": "兑换", "m.ship": "发货", "m.receive": "收货", "m.freeze_lot": "冻结批次", "m.recall": "召回",
  "m.suspend_member": "暂停成员", "m.accounts": "账号管理",
};
const en = {
  "app.name": "XiangChain", "app.tag": "Yangcheng Lake hairy crab anti-counterfeiting",
  "nav.home": "Verify", "nav.explorer": "Explorer", "nav.workspace": "Workspace", "nav.desk": "Regulator desk",
  "nav.signin": "Sign in", "nav.signout": "Sign out", "lang.switch": "中文",
  "home.title": "Check a crab ring or coupon", "home.lead": "Scan the QR code on the ring, or type the code printed on the ring or coupon.",
  "home.placeholder": "e.g. (01)09521234543213(21)YC2600001#K7Q2M9XA", "home.check": "Check",
  "home.more": "Every crab's history on the consortium chain can be looked up and proven.",
  "city.label": "Your city", "city.other": "Other", "city.choose": "Choose your city",
  "verify.pickcity": "Choose the city you are in, then the code is checked.",
  "verify.title": "Result", "verify.loading": "Checking on the chain…", "verify.again": "Check again",
  "verify.nocode": "No code to check.", "verify.code": "Code",
  "v.genuine": "Genuine", "v.genuine.sub": "This code is registered on the consortium chain and its history is clear.",
  "v.unknown": "Never issued · likely forged", "v.unknown.sub": "No registration on the chain matches this code. Do not buy or eat it; you can complain to the regulator.",
  "v.redeemed": "Already redeemed", "v.redeemed.sub": "This coupon has been redeemed and cannot be used again.",
  "v.recalled": "Recalled", "v.recalled.sub": "This lot was recalled by the regulator. Do not eat it; contact the seller.",
  "v.suspicious": "Suspicious", "v.suspicious.sub": "This code is registered, but:",
  "r.never_issued": "this code was never issued", "r.secret_missing": "the code lacks its secret (incomplete QR code)",
  "r.secret_mismatch": "the secret does not match: probably a copied code", "r.recalled": "recalled",
  "r.two_cities": "checked in two cities within 24 hours: probably cloned", "r.out_of_region": "checked outside the seller's sales region",
  "r.too_many_scans": "checked too many times: probably cloned", "r.lot_frozen": "the lot is frozen by the regulator pending a re-test",
  "r.inspection_failed": "the lot failed inspection", "r.not_inspected": "the lot has not been inspected",
  "r.not_tagged": "the ring was never put on a crab", "r.coupon_expired": "the coupon has expired", "r.coupon_refunded": "the coupon was refunded",
  "r.merchant_suspended": "the seller is suspended", "r.farm_suspended": "the farm is suspended",
  "r.capacity_exhausted": "beyond the farm's capacity", "r.not_shipped": "not shipped in time", "r.late_scan": "checked long after the season",
  "story.title": "This crab's story", "story.farm": "Farm", "story.zone": "Zone", "story.pond": "Pond",
  "story.harvest": "Harvested", "story.lot": "Lot", "story.sex": "Sex", "story.weight": "Weight",
  "story.inspection": "Inspection", "story.pass": "passed", "story.fail": "failed", "story.lab": "Lab",
  "story.merchant": "Merchant", "story.scans": "Checks", "story.scansN": "{n} (including this one)", "story.firstScan": "First checked",
  "story.never": "this is the first check", "story.coupon": "Coupon", "story.size": "Size", "story.sizeV": "{size} liang × {n} crabs",
  "story.validUntil": "Valid until", "story.redeemedAt": "Redeemed", "story.box": "Gift box", "story.season": "Season",
  "sex.male": "male", "sex.female": "female", "story.asOf": "chain height {h}",
  "complain.title": "Complain or report", "complain.phone": "Phone (required, seen only by the regulator)", "complain.text": "What happened",
  "complain.send": "Send complaint", "complain.ok": "Complaint received, record {txid}", "complain.err": "Not sent: {msg}",
  "ex.title": "Explorer", "ex.status": "Chain status", "ex.height": "Height", "ex.mode": "Mode", "ex.round": "Round",
  "ex.leader": "Leader", "ex.peers": "Peers connected", "ex.quorum": "Quorum", "ex.healthy": "Healthy", "ex.stalled": "Stalled",
  "ex.sync": "Sync", "ex.blocks": "Latest blocks", "ex.block": "Block", "ex.txs": "Txs", "ex.time": "Time",
  "ex.proposer": "Proposer", "ex.tx": "Transaction", "ex.status.committed": "committed", "ex.status.failed": "failed",
  "ex.status.pending": "pending", "ex.method": "Method", "ex.signer": "Signer", "ex.args": "Arguments", "ex.error": "Error",
  "ex.proof": "Inclusion proof", "ex.verify": "Verify in the browser", "ex.verifying": "Verifying…",
  "ex.inclusion.ok": "Merkle audit path verified: the transaction is in block {h}", "ex.inclusion.bad": "Merkle audit path does not verify: {why}",
  "ex.sigs": "verified: {n} of quorum {q} signatures", "ex.epochs.ok": "the validator set changed {n} time(s) since the genesis, each change signed by a quorum of the set before it",
  "ex.epochs.bad": "the chain of validator-set changes does not hold: {why}", "ex.sigs.unsupported": "this browser has no Ed25519: signatures not checked",
  "ex.sigs.suite": "suite {suite} signatures are not checked in the browser",
  "ex.live.poll": "refreshing every 2 s", "ex.live.stream": "live stream", "ex.search": "Block height or txid", "ex.go": "Go",
  "ex.back": "Back", "ex.yes": "yes", "ex.no": "no", "ex.signatures": "Signatures",
  "si.title": "Member sign-in", "si.org": "Organisation", "si.username": "Username", "si.password": "Password", "si.submit": "Sign in",
  "si.ok": "Signed in: {name} ({role})",
  "err.bad_credentials": "wrong username or password", "err.too_many_requests": "too many attempts, try again later",
  "err.account_suspended": "account suspended", "err.unauthorized": "please sign in first",
  "err.paper_crabs": "crabs promised beyond your stock", "err.quota_exceeded": "more crabs than the farm's area allows",
  "err.lot_frozen": "the lot is frozen", "err.ring_reused": "ring already used", "err.ring_not_allocated": "ring not allocated to you",
  "err.unknown_ring": "no such ring", "err.out_of_season": "outside the season", "err.wrong_zone": "wrong zone",
  "err.unknown_season": "no such season", "err.not_a_member": "your organisation is not a registered member", "err.member_suspended": "your organisation is suspended",
  "err.role_not_allowed": "your role may not do this", "err.bad_args": "some fields are wrong", "err.not_found": "not found",
  "err.already_exists": "already exists", "err.network": "network error", "err.generic": "refused",
  "ws.title": "Workspace", "ws.need": "Please sign in first.", "ws.submit": "Submit to the chain", "ws.committed": "Committed: block {h}, transaction {txid}",
  "ws.pending": "Submitted, pending: {txid}", "ws.refused": "{what} refused: {why}", "ws.codes": "Print code sheet",
  "desk.title": "Regulator desk", "desk.search": "Ring, coupon, box or lot code", "desk.trace": "Trace",
  "desk.timeline": "Accountability", "desk.graph": "Flow", "desk.alerts": "Open alerts", "desk.complaints": "Complaints",
  "desk.actions": "Actions", "desk.freeze": "Freeze lot", "desk.recall": "Recall lot", "desk.suspend": "Suspend member",
  "desk.reason": "Reason", "desk.none": "none", "desk.verifyStep": "verify",
  "party.farm": "Farm", "party.lab": "Lab", "party.merchant": "Merchant", "party.logistics": "Logistics", "party.consumer": "Consumer",
  "role.association": "association", "role.farm": "farm", "role.lab": "lab", "role.merchant": "merchant",
  "role.logistics": "logistics", "role.regulator": "regulator", "role.admin": "admin",
  "m.register_member": "Register member", "m.open_season": "Open season", "m.grant_quota": "Grant coupon quota", "m.commission_rings": "Ring batch",
  "m.tag_harvest": "Tag harvest", "m.inspect_lot": "Inspect lot", "m.issue_coupons": "Issue coupons", "m.sell_coupon": "Sell coupon",
  "m.redeem": "Redeem", "m.ship": "Ship", "m.receive": "Receive", "m.freeze_lot": "Freeze lot", "m.recall": "Recall",
  "m.suspend_member": "Suspend member", "m.accounts": "Accounts",
};
const dicts = { zh, en };

export function lang() {
  const l = localStorage.getItem("xc.lang");
  return l === "en" ? "en" : "zh";
}

export function setLang(l) {
  localStorage.setItem("xc.lang", l);
  document.documentElement.lang = l === "en" ? "en" : "zh-CN";
}

/** The text for `key` in the current language, with {name} placeholders filled; nil-safe. */
export function t(key, vars = {}) {
  const d = dicts[lang()];
  let s = d[key] ?? zh[key] ?? key;
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

/** Has the dictionary a text for `key`? */
export function has(key) { return key in dicts[lang()]; }

/** Fills every element with data-i18n (text) or data-i18n-ph (placeholder) below `root`. */
export function applyI18n(root = document) {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-ph]")) el.placeholder = t(el.dataset.i18nPh);
}
