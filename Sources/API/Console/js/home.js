import { initPage } from "./common.js";
import { bindCity } from "./city.js";

initPage("home");
const city = bindCity(document.getElementById("city"));
document.getElementById("check").addEventListener("submit", (e) => {
  e.preventDefault();
  const code = document.getElementById("code").value.trim();
  if (!code) return;
  if (city()) localStorage.setItem("xc.city", city());
  location.href = `/verify?code=${encodeURIComponent(code)}`;
});
