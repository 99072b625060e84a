// The consumer's city: a select, default 苏州, remembered in localStorage ("xc.city").
export function bindCity(select) {
  const saved = localStorage.getItem("xc.city") || "苏州";
  if (![...select.options].some((o) => o.value === saved)) select.add(new Option(saved, saved));
  select.value = saved;
  select.addEventListener("change", () => localStorage.setItem("xc.city", select.value));
  return () => select.value || "苏州";
}
