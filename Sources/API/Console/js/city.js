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
