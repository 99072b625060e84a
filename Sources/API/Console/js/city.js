// The consumer's city: a select with no default (a check from the wrong city would later read as a
// second city), remembered in localStorage ("xc.city") once the consumer chooses one.
export function bindCity(select, onChosen = () => {}) {
  const saved = localStorage.getItem("xc.city") || "";
  if (saved && ![...select.options].some((o) => o.value === saved)) select.add(new Option(saved, saved));
  select.value = saved;
  select.addEventListener("change", () => {
    if (!select.value) return;
    localStorage.setItem("xc.city", select.value);
    onChosen(select.value);
  });
  return () => select.value;
}

// This browser's own random device id ("xc.device"): the node hashes it per code with its salt, so
// one buyer's repeated checks count as one device, never as many.
export function deviceId() {
  let id = localStorage.getItem("xc.device") || "";
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    id = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem("xc.device", id);
  }
  return id;
}

// Coarse location: the phone's position, only when the consumer asks and the browser allows it,
// rounded to 0.1° (about 10 km) and matched here against the centres of the cities the page
// offers; the coordinates never leave the phone, only the city's name is used.
export const CITY_CENTRES = {
  苏州: [31.30, 120.58], 上海: [31.23, 121.47], 无锡: [31.49, 120.31], 杭州: [30.27, 120.16],
  南京: [32.06, 118.80], 北京: [39.90, 116.41], 广州: [23.13, 113.26], 深圳: [22.54, 114.06],
};
/** How far from a centre a position still counts as that city, km. */
export const CITY_RADIUS_KM = 60;

/** The offered city nearest to (lat, lon) within CITY_RADIUS_KM, or "" (then the page asks). */
export function cityNear(lat, lon, centres = CITY_CENTRES) {
  const r = (x) => Math.round(Number(x) * 10) / 10;
  const [la, lo] = [r(lat), r(lon)];
  if (!Number.isFinite(la) || !Number.isFinite(lo)) return "";
  const rad = Math.PI / 180;
  let best = "", bestKm = Infinity;
  for (const [name, [cla, clo]] of Object.entries(centres)) {
    const dla = (cla - la) * rad, dlo = (clo - lo) * rad;
    const h = Math.sin(dla / 2) ** 2 + Math.cos(la * rad) * Math.cos(cla * rad) * Math.sin(dlo / 2) ** 2;
    const km = 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
    if (km < bestKm) { best = name; bestKm = km; }
  }
  return bestKm <= CITY_RADIUS_KM ? best : "";
}

/** Asks the browser for a coarse position; resolves to an offered city's name, or "" when the
 * consumer refuses, the browser cannot tell, or the position is near none of the cities. */
export function locateCity() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) { resolve(""); return; }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve(cityNear(p.coords.latitude, p.coords.longitude)),
      () => resolve(""),
      { enableHighAccuracy: false, maximumAge: 0, timeout: 15000 });
  });
}
