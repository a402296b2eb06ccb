// Static pages: focus rings, and the municipality picker of the home page.
import { focusRings } from "./ui.js";

focusRings();
const form = document.getElementById("scegli-comune");
if (form) {
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const input = document.getElementById("comune");
    const err = document.getElementById("comune-err");
    const slug = input.value.trim().toLowerCase();
    if (!/^[a-z0-9-]{2,40}$/.test(slug)) {
      err.textContent = "Scrivi il codice del Comune: lettere minuscole, cifre o trattini.";
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    location.assign(`/${slug}/`);
  });
}
