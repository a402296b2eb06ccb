// What the parent portal and the staff back-office share: a safe DOM
// builder (text is always text, never HTML), the page frame in Bootstrap
// Italia's header and footer, form fields whose errors are tied to them,
// and the formatting of dates, money and statuses. Every text goes
// through t() (i18n.js): Italian in the back-office, which never loads a
// catalogue; the family's language in the portal.
import { t, bilingual, current, locale, LANGUAGES } from "./i18n.js";

/**
 * Bootstrap Italia's focus convention without its 1 MB script bundle (none
 * of its components is used here): what the mouse focused gets
 * `data-focus-mouse="true"` and no ring; what the keyboard reaches keeps it.
 */
export function focusRings() {
  let mouse = false;
  document.addEventListener("mousedown", () => (mouse = true), true);
  document.addEventListener("keydown", () => (mouse = false), true);
  document.addEventListener("focusin", (e) => mouse && e.target instanceof Element && e.target.setAttribute("data-focus-mouse", "true"), true);
  document.addEventListener("focusout", (e) => e.target instanceof Element && e.target.removeAttribute("data-focus-mouse"), true);
}

/** Build an element: h("p", { class: "x" }, "text", child, …). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    // Through the CSSOM: the CSP blocks style attributes.
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const SVG = "http://www.w3.org/2000/svg";
/** A Bootstrap Italia icon from the sprite, hidden from screen readers. */
export function icon(name, cls = "") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", `icon ${cls}`.trim());
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", `/_assets/bi/svg/sprites.svg#it-${name}`);
  svg.append(use);
  return svg;
}

// Dates and times as the comune's clock shows them, in the page's language.
const tz = "Europe/Rome";
export function fmtDateTime(s) {
  if (!s) return "—";
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toLocaleString(locale(), { timeZone: tz, day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit" });
}
/** The time of day only ("14:05"). */
export function fmtTime(s) {
  if (!s) return "";
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleTimeString(locale(), { timeZone: tz, hour: "2-digit", minute: "2-digit" });
}
/** A calendar date (YYYY-MM-DD, no time zone). */
export function fmtDate(s) {
  if (!s) return "—";
  const [y, m, d] = String(s).split("-").map(Number);
  if (!y || !m || !d) return String(s);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(locale(), { timeZone: "UTC", day: "2-digit", month: "2-digit", year: "numeric" });
}
export function euro(cents) {
  if (cents === null || cents === undefined) return "—";
  return (cents / 100).toLocaleString(locale(), { style: "currency", currency: "EUR" });
}
/** A number of euro for an input ("12500,00" in Italian), without the currency. */
export function euroInput(cents) {
  if (cents === null || cents === undefined || !Number.isFinite(cents)) return "";
  return (cents / 100).toLocaleString(locale(), { minimumFractionDigits: 2, maximumFractionDigits: 2, useGrouping: false });
}
/**
 * Euro cents from what a person typed, whatever the decimal mark: the last
 * of "," and "." followed by one or two digits is the decimal mark, any
 * other is a thousands separator. NaN when it is not a number; null when empty.
 */
export function parseEuro(raw) {
  const s = String(raw ?? "").trim().replace(/[\s\u00a0\u202f'€]/g, "");
  if (s === "") return null;
  if (!/^\d[\d.,]*$/.test(s)) return NaN;
  const m = s.match(/^(.*)[.,](\d{1,2})$/);
  const whole = (m ? m[1] : s).replace(/[.,]/g, "");
  const cents = m ? m[2].padEnd(2, "0") : "00";
  if (!/^\d+$/.test(whole)) return NaN;
  return Number(whole) * 100 + Number(cents);
}

// The tables below have getters: each text is looked up when it is read,
// in the page's language at that moment.
const labelled = (entries) => Object.defineProperties({}, Object.fromEntries(Object.entries(entries).map(([k, get]) => [k, { get, enumerable: true }])));

export const STATUS = labelled({
  draft: () => [t("Bozza"), "bg-secondary"],
  submitted: () => [t("Inviata"), "bg-primary"],
  confirmed: () => [t("Confermata"), "bg-success"],
  rejected: () => [t("Respinta"), "bg-danger"],
  expired: () => [t("Scaduta"), "bg-dark"],
  withdrawn: () => [t("Ritirata"), "bg-dark"],
  waitlisted: () => [t("In lista d’attesa"), "bg-warning text-dark"],
  changes_requested: () => [t("Da integrare"), "bg-warning text-dark"],
  open: () => [t("Aperta"), "bg-success"],
  scheduled: () => [t("Programmata"), "bg-secondary"],
  closed: () => [t("Chiusa"), "bg-dark"],
});
export function badge(status) {
  const [label, cls] = STATUS[status] || [status, "bg-secondary"];
  return h("span", { class: `badge ${cls}` }, label);
}

export const SERVICES = labelled({
  refezione: () => t("Refezione scolastica"),
  pre_post_scuola: () => t("Pre e post scuola"),
  trasporto: () => t("Trasporto scolastico"),
});

/** Days of attendance, in the contract's codes, in week order, in the page's language. */
export function days() {
  return [["mon", t("Lunedì")], ["tue", t("Martedì")], ["wed", t("Mercoledì")], ["thu", t("Giovedì")], ["fri", t("Venerdì")], ["sat", t("Sabato")]];
}
/** The same, read once when this module loads (before any catalogue): the back-office's Italian days. */
export const DAYS = days();

/**
 * A service's name: the comune's own (Italian) name in Italian, ours in
 * another language where we know the service.
 */
export function serviceName(service, ownName) {
  if (current() === "it") return ownName || SERVICES[service] || service;
  return SERVICES[service] || ownName || service;
}

/** "Refezione scolastica 2026/2027" for a window ("" for none). */
export function windowLabel(w) {
  return w ? t("{service} {year}", { service: serviceName(w.service, w.service_name), year: w.school_year }) : "";
}

/**
 * Official wording (a declaration the law fixes) from bilingual(): the
 * Italian text, which binds, and under it the translation, each marked
 * with its language.
 */
export function legalText(b) {
  if (!b.translated) return b.it;
  return [h("span", { lang: "it", dir: "ltr", class: "legal-it" }, b.it), h("span", { lang: b.lang, class: "legal-translation" }, b.text)];
}

/** Above official wording shown in two languages: the Italian text binds. */
export function bindingNote() {
  const b = bilingual("Il testo in italiano è quello vincolante; la traduzione aiuta a leggerlo.");
  return b.translated ? h("p", { class: "legal-note small" }, legalText(b)) : null;
}

/** An alert; `role=alert` for errors so screen readers announce them. */
export function alert(kind, ...content) {
  const role = kind === "danger" || kind === "warning" ? "alert" : "status";
  return h("div", { class: `alert alert-${kind}`, role }, ...content);
}

/**
 * The footer's links, with the `data-element` names the national checks
 * look for, in the page's language; build.mjs writes the same list (in
 * Italian, for static.js to translate) into the static pages.
 */
export function footerLinks() {
  return [
    ["/privacy.html", "privacy-policy-link", t("Informativa privacy")],
    ["/dichiarazione-accessibilita.html", "accessibility-link", t("Dichiarazione di accessibilità")],
    ["/note-legali.html", "legal-notes", t("Note legali")],
  ];
}
export const FOOTER_LINKS = footerLinks();

/**
 * The language switcher: a list of links, each language named in its own
 * language (`lang`, `hreflang`), the current one marked. `onPick(code)`
 * switches without leaving the page; the link itself (`?lang=…`) works too.
 */
export function languageSwitcher(onPick) {
  const here = current();
  const hrefOf = (code) => {
    const url = new URL(location.href);
    url.searchParams.set("lang", code);
    url.hash = "";
    return url.pathname + url.search;
  };
  return h(
    "nav",
    { class: "lang-switcher", "aria-labelledby": "lang-switcher-label" },
    h("span", { id: "lang-switcher-label", class: "lang-switcher-label" }, t("Lingua / Language")),
    h(
      "ul",
      { class: "lang-switcher-list" },
      LANGUAGES.map((l) =>
        h(
          "li",
          {},
          h(
            "a",
            {
              href: hrefOf(l.code),
              lang: l.code,
              hreflang: l.code,
              dir: l.dir,
              "aria-current": l.code === here ? "true" : null,
              "data-lang": l.code,
              onclick: onPick
                ? (e) => {
                    if (e.ctrlKey || e.metaKey || e.shiftKey) return;
                    e.preventDefault();
                    onPick(l.code);
                  }
                : null,
            },
            l.name,
          ),
        ),
      ),
    ),
  );
}

/** Bootstrap Italia's grid around one full-width block. */
const inGrid = (...content) => h("div", { class: "container" }, h("div", { class: "row" }, h("div", { class: "col-12" }, ...content)));

/**
 * Page frame: slim header (with the language switcher when `onLanguage`
 * is given), centre header with the tenant, main, footer.
 */
export function frame({ tenant, tenantName, area, homeHref, nav = [], onLanguage = null }) {
  const main = h("main", { id: "contenuto", tabindex: "-1", class: "container my-4" });
  const header = h(
    "header",
    { class: "it-header-wrapper" },
    h(
      "div",
      { class: "it-header-slim-wrapper" },
      inGrid(
        h(
          "div",
          { class: "it-header-slim-wrapper-content" },
          h("span", { class: "d-lg-block navbar-brand" }, tenantName || t("Comune")),
          h("span", { class: "text-white small" }, area),
          onLanguage ? languageSwitcher(onLanguage) : null,
        ),
      ),
    ),
    h(
      "div",
      { class: "it-nav-wrapper" },
      h(
        "div",
        { class: "it-header-center-wrapper" },
        inGrid(
          h(
            "div",
            { class: "it-header-center-content-wrapper" },
            h(
              "div",
              { class: "it-brand-wrapper" },
              h(
                "a",
                { href: homeHref },
                icon("pa"),
                h(
                  "div",
                  { class: "it-brand-text" },
                  h("div", { class: "it-brand-title" }, tenantName || t("Comune")),
                  h("div", { class: "it-brand-tagline d-none d-md-block" }, t("Iscrizioni ai servizi scolastici")),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
  if (nav.length) {
    header.append(
      h("div", { class: "portal-navbar" }, h("div", { class: "container" }, h("nav", { "aria-label": t("Menu principale") }, h("ul", { class: "nav" }, nav.map((n) => h("li", { class: "nav-item" }, n)))))),
    );
  }
  const footer = h(
    "footer",
    { class: "it-footer" },
    h(
      "div",
      { class: "it-footer-main" },
      h(
        "div",
        { class: "container py-4" },
        h("p", { class: "h5 text-white" }, tenantName || t("Comune")),
        h("p", { class: "text-white mb-0" }, t("Iscrizioni ai servizi scolastici: refezione, pre e post scuola, trasporto.")),
      ),
    ),
    h(
      "div",
      { class: "it-footer-small-prints clearfix" },
      h(
        "div",
        { class: "container" },
        h(
          "ul",
          { class: "it-footer-small-prints-list list-inline mb-0 d-flex flex-column flex-md-row" },
          footerLinks().map(([href, element, text]) => h("li", { class: "list-inline-item" }, h("a", { href, "data-element": element }, text))),
        ),
      ),
    ),
  );
  const skip = h("a", { class: "visually-hidden-focusable skiplink", href: "#contenuto" }, t("Vai al contenuto"));
  document.body.replaceChildren(skip, header, main, footer);
  return main;
}

/** Show a new page's content and move focus to its title. */
export function show(main, title, ...content) {
  const h1 = h("h1", { tabindex: "-1", class: "mb-4" }, title);
  main.replaceChildren(h1);
  append(main, content);
  // Without the marks that isolate values in right-to-left text: a window title shows them.
  document.title = t("{title} · Iscrizioni scolastiche", { title: h1.textContent }).replace(/[\u2068\u2069]/g, "");
  h1.focus();
  return h1;
}

let uid = 0;
/** An id unique in this page. */
export function newId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** Id of the input for a dotted field path of the contract. */
export function fieldId(path) {
  return `f-${path.replace(/[^a-zA-Z0-9_-]/g, "-")}`;
}

/**
 * A labelled input for the dotted path `name`, with its hint and an error
 * slot tied to it by aria-describedby.
 */
export function field({ name, label, type = "text", value = "", hint, required = false, autocomplete, inputmode, options, maxlength, attrs = {} }) {
  const id = fieldId(name);
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const describedBy = [hint ? hintId : null, errId].filter(Boolean).join(" ");
  const labelText = [label, required ? h("span", { class: "visually-hidden" }, ` ${t("(obbligatorio)")}`) : null, required ? h("span", { "aria-hidden": "true" }, " *") : null];
  let control;
  if (type === "select") {
    control = h(
      "select",
      { id, name, class: "form-select", "aria-describedby": describedBy, required, ...attrs },
      options.map(([v, l]) => h("option", { value: v, selected: String(value ?? "") === v }, l)),
    );
  } else if (type === "textarea") {
    control = h("textarea", { id, name, class: "form-control", rows: 3, "aria-describedby": describedBy, required, maxlength, ...attrs });
    control.value = value ?? "";
  } else {
    control = h("input", { id, name, type, class: "form-control", value: value ?? "", "aria-describedby": describedBy, required, autocomplete, inputmode, maxlength, ...attrs });
  }
  // Bootstrap Italia: a select sits in its wrapper; other inputs in a
  // form group whose label stays raised.
  const select = type === "select";
  return h(
    "div",
    { class: select ? "select-wrapper mb-4" : "form-group mb-4", dataset: { field: name } },
    h("label", { for: id, class: select ? null : "active" }, labelText),
    control,
    hint ? h("small", { id: hintId, class: "form-text" }, hint) : null,
    h("div", { id: errId, class: "field-error", "aria-live": "polite" }),
  );
}

/** A fieldset of checkboxes or radios, one error slot for the group. */
export function choices({ name, legend, type = "checkbox", items, checked = [], hint, required = false }) {
  const id = fieldId(name);
  const errId = `${id}-err`;
  const hintId = `${id}-hint`;
  return h(
    "fieldset",
    { class: "mb-4", id, dataset: { field: name }, "aria-describedby": [hint ? hintId : null, errId].filter(Boolean).join(" ") },
    h("legend", { class: "fs-6 fw-semibold" }, legend, required ? h("span", { "aria-hidden": "true" }, " *") : null),
    hint ? h("p", { id: hintId, class: "form-text" }, hint) : null,
    items.map(([value, label], i) => {
      const itemId = `${id}-${i}`;
      return h(
        "div",
        { class: type === "radio" ? "form-check" : "form-check" },
        h("input", { type, id: itemId, name, value, checked: checked.includes(value) }),
        h("label", { for: itemId }, label),
      );
    }),
    h("div", { id: errId, class: "field-error", "aria-live": "polite" }),
  );
}

/** A single checkbox (declarations) with its error slot. */
export function checkbox({ name, label, checked = false }) {
  const id = fieldId(name);
  const errId = `${id}-err`;
  return h(
    "div",
    { class: "form-check mb-3", dataset: { field: name } },
    h("input", { type: "checkbox", id, name, checked, "aria-describedby": errId }),
    h("label", { for: id }, label),
    h("div", { id: errId, class: "field-error", "aria-live": "polite" }),
  );
}

/** Mark one field's error (or clear it with an empty message). */
export function setFieldError(root, name, message) {
  const id = fieldId(name);
  const err = root.querySelector(`#${CSS.escape(id)}-err`);
  const control = root.querySelector(`#${CSS.escape(id)}`);
  if (err) err.textContent = message || "";
  if (control) {
    if (message) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
    control.classList.toggle("is-invalid", Boolean(message));
  }
  return Boolean(err);
}

export function clearFieldErrors(root) {
  for (const el of root.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of root.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    el.classList.remove("is-invalid");
  }
}

/**
 * The error summary at the top of a form: the message, then each field's
 * error as a link that focuses it (`onPick(field)` may first switch step;
 * the focus moves once the promise it returns settles).
 */
export function errorSummary(message, fields = [], labelOf = (f) => f, onPick = null) {
  const box = h(
    "div",
    { class: "alert alert-danger", role: "alert", tabindex: "-1" },
    h("p", { class: "fw-semibold mb-2" }, message),
    fields.length
      ? h(
          "ul",
          { class: "mb-0" },
          fields.map((f) =>
            h(
              "li",
              {},
              h(
                "a",
                {
                  href: `#${fieldId(f.field)}`,
                  onclick: async (e) => {
                    e.preventDefault();
                    if (onPick) await onPick(f.field);
                    const el = document.getElementById(fieldId(f.field));
                    const target = el && el.tagName === "FIELDSET" ? el.querySelector("input") : el;
                    if (target) target.focus();
                  },
                },
                t("{field}: {message}", { field: labelOf(f.field), message: f.message }),
              ),
            ),
          ),
        )
      : null,
  );
  return box;
}

/** Turn a button into a busy one while `work` runs (no double submits). */
export async function busy(button, work) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
