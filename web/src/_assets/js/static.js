// Static pages: focus rings, the language switcher and the pages' texts in
// the family's language, and the municipality picker of the home page.
// An element with `data-i18n` has its Italian text as the key (a child
// marked `data-i18n-arg="name"` stands for `{name}` and keeps its markup);
// one with `data-i18n-binding` is official wording (the privacy notice):
// its Italian text stays, the binding one, with the translation under it.
import { focusRings, languageSwitcher, footerLinks, bindingNote, h } from "./ui.js";
import { t, translateKey, useLanguage, setLang, isLanguage, current, direction } from "./i18n.js";

focusRings();

// ?lang=… (a link of the switcher) sets the family's language; the address then loses it.
const q = new URLSearchParams(location.search);
if (q.has("lang")) {
  if (isLanguage(q.get("lang"))) setLang(q.get("lang"));
  q.delete("lang");
  history.replaceState({}, "", location.pathname + (q.toString() ? `?${q}` : "") + location.hash);
}
await useLanguage();

/** The key of a `data-i18n` element: its text, each argument child as `{name}`, spaces collapsed. */
function keyOf(el) {
  let key = "";
  for (const node of el.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) key += node.textContent;
    else if (node.nodeType === Node.ELEMENT_NODE && node.dataset.i18nArg) key += `{${node.dataset.i18nArg}}`;
    else if (node.nodeType === Node.ELEMENT_NODE) key += node.textContent;
  }
  return key.replace(/\s+/g, " ").trim();
}

/** Put `text` into `el`, its `{name}` placeholders replaced by the element's argument children. */
function render(el, text) {
  const args = Object.fromEntries([...el.querySelectorAll("[data-i18n-arg]")].map((c) => [c.dataset.i18nArg, c]));
  const parts = text.split(/\{(\w+)\}/);
  el.replaceChildren(...parts.map((part, i) => (i % 2 === 1 ? args[part] || `{${part}}` : part)));
}

function translatePage() {
  if (current() === "it") return;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    const key = keyOf(el);
    const text = translateKey(key);
    if (text !== key) render(el, text);
  }
  let first = null;
  const rtl = direction() === "rtl";
  for (const el of document.querySelectorAll("[data-i18n-binding]")) {
    const key = keyOf(el);
    const text = translateKey(key);
    if (text === key) continue;
    // The Italian text stays, marked as Italian; the translation comes under it.
    const translation = (tag) => h(tag, { lang: current(), class: "legal-translation" }, text);
    if (/^H\d$/.test(el.tagName)) {
      // Both in the heading, so that its name says both.
      el.replaceChildren(h("span", { lang: "it", dir: rtl ? "ltr" : null, class: "legal-it" }, ...el.childNodes), translation("span"));
    } else {
      el.lang = "it";
      if (rtl) el.dir = "ltr";
      el.classList.add("legal-it");
      el.after(translation("p"));
    }
    first = first || el;
  }
  if (first) first.before(bindingNote());
  for (const [href, , text] of footerLinks()) {
    const a = document.querySelector(`footer a[href="${href}"]`);
    if (a) a.textContent = text;
  }
  const title = document.querySelector("title")?.dataset.i18nTitle;
  if (title) document.title = t("{title} · Iscrizioni scolastiche", { title: translateKey(title) }).replace(/[\u2068\u2069]/g, "");
}

translatePage();
document.getElementById("lingua")?.replaceChildren(languageSwitcher());

const form = document.getElementById("scegli-comune");
if (form) {
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const input = document.getElementById("comune");
    const err = document.getElementById("comune-err");
    const slug = input.value.trim().toLowerCase();
    if (!/^[a-z0-9-]{2,40}$/.test(slug)) {
      err.textContent = t("Scrivi il codice del Comune: lettere minuscole, cifre o trattini.");
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    location.assign(`/${slug}/`);
  });
}
