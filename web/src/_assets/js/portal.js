// The parent portal: /{tenant}/…, a single page on the public contract.
// Pages: home, access (email code, fiscal code and password, SPID/CIE),
// the form in five steps with "Salva bozza", the summary, the status with
// the documents, the renewals ("Anagrafiche"), the family's applications
// ("Le mie domande", with "Invia tutte" and "Aggiungi un altro figlio").
// Input being typed is kept in this tab's storage until the API has it, so
// an expired session, a closed window or a conflict never loses it. Every
// text is in the family's language (i18n.js: t() with the Italian text as
// its key, the language switcher in the header); the official declarations
// show the binding Italian text with the translation.
import { call, upload, portalConfig, tenantFromPath, ApiError } from "./api.js";
import { fiscalCode, birthDateOf, rules, phoneE164 } from "./checks.js";
import { t, bilingual, current, setLang, useLanguage, isLanguage } from "./i18n.js";
import {
  h, icon, frame, show, field, choices, checkbox, setFieldError, clearFieldErrors, errorSummary,
  busy, badge, alert, fmtDateTime, fmtTime, fmtDate, euro, euroInput, parseEuro, fieldId, focusRings, days, windowLabel,
  serviceName, legalText, bindingNote,
} from "./ui.js";

const tenant = tenantFromPath();
const base = `/${tenant}/`;
let info = null; // GET /windows: { tenant, windows }
let services = []; // GET /services: what each service's form offers
let schools = []; // GET /services: the comune's schools (names), if it lists them
let config = {};
let main = null;

// ---------------------------------------------------------------- storage

const store = {
  get(key) {
    try {
      return JSON.parse(sessionStorage.getItem(`${tenant}:${key}`));
    } catch {
      return null;
    }
  },
  set(key, value) {
    sessionStorage.setItem(`${tenant}:${key}`, JSON.stringify(value));
  },
  del(key) {
    sessionStorage.removeItem(`${tenant}:${key}`);
  },
};

function session() {
  const s = store.get("session");
  if (!s || !s.token) return null;
  if (s.session && s.session.expires_at && Date.parse(s.session.expires_at) <= Date.now()) {
    store.del("session");
    return null;
  }
  return s;
}
const token = () => (session() || {}).token;

function keepSession(opened) {
  store.set("session", { token: opened.token, session: opened.session });
}

/** Call the API as the current parent; an expired session sends to access. */
async function api(method, path, options = {}) {
  try {
    return await call(tenant, method, path, { token: token(), ...options });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401 && e.code === "unauthorized") {
      store.del("session");
      e.sessionExpired = true;
    }
    if (e instanceof ApiError && e.code === "password_change_required") {
      go("password");
    }
    throw e;
  }
}

// ---------------------------------------------------------------- routing

/** Show another page of the portal; resolves once it is drawn. */
function go(path, { replace = false } = {}) {
  const url = path.startsWith("/") ? path : base + path;
  if (replace) history.replaceState({}, "", url);
  else history.pushState({}, "", url);
  return route();
}

/**
 * From an error summary, open the step that holds `path` and mark there
 * the errors of `fields` that belong to it (the summary's link then moves
 * the focus to the field).
 */
async function goToStep(id, path, fields) {
  const s = stepOf(path);
  await go(`domande/${id}/passo/${s}`);
  const form = main.querySelector("form");
  if (form) for (const f of fields) if (stepOf(f.field) === s) setFieldError(form, f.field, f.message);
}

document.addEventListener("click", (e) => {
  const a = e.target.closest("a[href]");
  if (!a || e.defaultPrevented || a.target || a.hasAttribute("download") || e.ctrlKey || e.metaKey || e.shiftKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(base) || url.pathname.startsWith(`${base}staff/`)) return;
  // A link within the page (the skip link) is the browser's business.
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
  e.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener("popstate", () => route());

const link = (path, text, cls = "") => h("a", { href: base + path, class: cls }, text);

/**
 * A control's short visible text and its full name for screen readers
 * ("Apri la domanda" / "Apri la domanda di Maria Rossi"): two texts, each
 * a whole sentence of its own for the translators.
 */
const named = (visible, full) => [h("span", { "aria-hidden": "true" }, visible), h("span", { class: "visually-hidden" }, full)];

/** Draw the frame (its menu depends on the session), then the page. */
async function route() {
  main = frame({ tenant, tenantName: info.tenant.name, area: t("Servizi scolastici"), homeHref: base, nav: nav(), onLanguage: switchLanguage });
  await page();
}

/** The family picks another language: keep it, load its texts, draw the page again. */
async function switchLanguage(code) {
  setLang(code);
  await useLanguage(code);
  await route();
}

async function page() {
  const rel = location.pathname.slice(base.length).replace(/\/$/, "");
  const q = new URLSearchParams(location.search);
  const parts = rel ? rel.split("/") : [];
  try {
    if (parts.length === 0) return await home();
    if (rel === "nuova-iscrizione") return await newEnrollment(q.get("finestra"), q.get("da"));
    if (rel === "accesso") return accessPage();
    if (rel === "accedi") return passwordLogin();
    if (rel === "password") return passwordChange();
    if (rel === "spid") return await spidStart();
    if (rel === "spid/ritorno") return await spidReturn(q);
    if (rel === "anagrafiche") return await renewals();
    if (rel === "domande") return await myApplications();
    if (parts[0] === "domande" && parts[1]) {
      const id = parts[1];
      if (parts[2] === "passo") return await formStep(id, Number(parts[3]) || 1);
      if (parts[2] === "riepilogo") return await summary(id);
      if (parts.length === 2) return await status(id);
    }
    show(main, t("Pagina non trovata"), h("p", {}, t("L’indirizzo non corrisponde a nessuna pagina del portale.")), link("", t("Torna alla pagina iniziale"), "btn btn-primary"));
  } catch (e) {
    failure(e);
  }
}

/** A page for an error nobody handled closer. */
function failure(e) {
  if (e instanceof ApiError && e.sessionExpired) {
    return needSession(t("La sessione è scaduta: accedi di nuovo. I dati che stavi inserendo sono conservati su questo dispositivo."));
  }
  if (e instanceof ApiError && e.status === 404) {
    return show(main, t("Domanda non trovata"), alert("warning", e.message), link("domande", t("Le mie domande"), "btn btn-primary"));
  }
  const message = e instanceof ApiError ? e.message : t("Si è verificato un errore inatteso: ricarica la pagina.");
  if (!(e instanceof ApiError)) console.error(e);
  return show(main, t("Qualcosa non ha funzionato"), alert("danger", message), link("", t("Torna alla pagina iniziale"), "btn btn-outline-primary"));
}

/** Ask for access, then come back here. */
function needSession(message) {
  store.set("return", location.pathname + location.search);
  if (message) store.set("access-notice", message);
  go("accesso", { replace: true });
}

function afterLogin(fallback = "domande") {
  const back = store.get("return");
  store.del("return");
  go(back && back.startsWith(base) ? back : fallback, { replace: true });
}

// ---------------------------------------------------------------- frame

function nav() {
  const s = session();
  const items = [link("", t("Home"), "nav-link"), link("domande", t("Le mie domande"), "nav-link"), link("anagrafiche", t("Anagrafiche"), "nav-link")];
  if (s) {
    items.push(
      h("button", {
        type: "button",
        class: "btn btn-link nav-link",
        onclick: () => {
          sessionStorage.clear();
          go("");
        },
      }, t("Esci")),
    );
  } else items.push(link("accesso", t("Accedi"), "nav-link"));
  return items;
}

function openWindows() {
  return (info?.windows || []).filter((w) => w.status === "open");
}
const windowById = (id) => (info?.windows || []).find((w) => w.id === id);

function contacts() {
  const office = info?.tenant || {};
  const mail = office.contact_email ? h("a", { href: `mailto:${office.contact_email}`, dir: "ltr" }, office.contact_email) : null;
  const phone = office.phone ? h("a", { href: `tel:${office.phone.replace(/\s/g, "")}`, dir: "ltr" }, office.phone) : null;
  return h(
    "p",
    { class: "small" },
    t("Ufficio:"),
    " ",
    mail,
    phone ? [mail ? " · " : null, t("tel."), " ", phone] : null,
  );
}

// ---------------------------------------------------------------- home

async function home() {
  const s = session();
  const windows = info.windows || [];
  const cards = windows.length
    ? windows.map((w) =>
        h(
          "div",
          { class: "card-window" },
          h("h3", { class: "h5 mb-1" }, windowLabel(w), " ", badge(w.status)),
          h("p", { class: "mb-2" }, w.status === "scheduled" ? t("Apre il {date}", { date: fmtDateTime(w.opens_at) }) : w.status === "open" ? t("Domande fino al {date}", { date: fmtDateTime(w.closes_at) }) : t("Chiuso il {date}", { date: fmtDateTime(w.closes_at) })),
          w.status === "open" ? link(`nuova-iscrizione?finestra=${encodeURIComponent(w.id)}`, named(t("Nuova iscrizione"), t("Nuova iscrizione a {window}", { window: windowLabel(w) })), "btn btn-primary btn-sm") : null,
        ),
      )
    : [h("p", {}, t("Nessun periodo di iscrizione in programma."))];
  show(
    main,
    t("Iscrizioni ai servizi scolastici"),
    h("p", { class: "lead" }, t("Servizi del {comune}: iscrivi un alunno, riprendi una domanda salvata, rinnova l’iscrizione dell’anno scorso.", { comune: info.tenant.name })),
    h("h2", { class: "h4 mt-4" }, t("Periodi di iscrizione")),
    cards,
    h("h2", { class: "h4 mt-4" }, t("Cosa vuoi fare?")),
    h(
      "div",
      { class: "d-grid gap-3 d-md-flex flex-md-wrap" },
      link("nuova-iscrizione", t("Nuova iscrizione"), "btn btn-primary"),
      link("accedi", t("Riprendi una domanda"), "btn btn-outline-primary"),
      link("spid", t("Entra con SPID / CIE"), "btn btn-outline-primary"),
      link("anagrafiche", t("Rinnova iscrizione"), "btn btn-outline-primary"),
    ),
    s ? h("p", { class: "mt-4" }, link("domande", t("Vai alle tue domande"))) : null,
    h("h2", { class: "h4 mt-5" }, t("Contatti")),
    contacts(),
  );
}

// ---------------------------------------------------------------- access

function accessPage() {
  const notice = store.get("access-notice");
  store.del("access-notice");
  show(
    main,
    t("Accedi"),
    notice ? alert("warning", notice) : null,
    h("p", {}, t("Scegli come accedere.")),
    h(
      "ul",
      { class: "list-unstyled d-grid gap-3" },
      h("li", {}, link("spid", t("Entra con SPID / CIE"), "btn btn-primary")),
      h("li", {}, link("accedi", t("Codice fiscale dell’alunno e password"), "btn btn-outline-primary")),
      h("li", {}, link("nuova-iscrizione", t("Nuova iscrizione con la tua email"), "btn btn-outline-primary")),
    ),
  );
}

/**
 * An address (email or mobile) and the 6-digit code sent to it; the code
 * opens (or is merged into) the session and `onDone(opened)` gets it.
 * `kind` holds what differs: the field, the route and the texts.
 */
function codeVerification(kind, { value = "", onDone }) {
  const box = h("div", { class: `${kind.name}-verification` });
  const addressForm = h(
    "form",
    { method: "post", novalidate: true },
    field({ name: kind.name, label: kind.label, type: kind.type, value, autocomplete: kind.autocomplete, required: true, hint: kind.hint, attrs: { dir: "ltr" } }),
    h("button", { type: "submit", class: "btn btn-primary" }, kind.send),
  );
  const codeForm = h(
    "form",
    { method: "post", novalidate: true, hidden: true, class: "mt-5" },
    field({ name: "code", label: t("Codice di sicurezza"), inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6, required: true, hint: kind.codeHint, attrs: { dir: "ltr" } }),
    h("div", { class: "step-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, t("Conferma")),
      h("button", { type: "button", class: "btn btn-outline-primary", "data-resend": "" }, t("Invia di nuovo il codice"))),
  );
  const msg = h("div", { "aria-live": "polite" });
  let sentTo = null;
  const input = () => addressForm.elements[kind.name];
  const send = async (button) => {
    clearFieldErrors(addressForm);
    msg.replaceChildren();
    const typed = input().value.trim();
    const problem = typed ? kind.check(typed) : kind.missing;
    if (problem) {
      setFieldError(addressForm, kind.name, problem);
      input().focus();
      return;
    }
    await busy(button, async () => {
      try {
        await call(tenant, "POST", kind.path, { body: { [kind.name]: typed }, token: token() });
        sentTo = typed;
        codeForm.hidden = false;
        msg.replaceChildren(alert("success", kind.sent(typed)));
        codeForm.code.focus();
      } catch (e) {
        if (e.code === kind.invalid) setFieldError(addressForm, kind.name, e.fields?.[0]?.message || e.message);
        else if (e.status === 429) msg.replaceChildren(alert("warning", e.message, e.retryAfter ? [" ", t("Riprova tra {seconds} secondi.", { seconds: e.retryAfter })] : null));
        else msg.replaceChildren(alert("danger", e.message));
      }
    });
  };
  addressForm.addEventListener("submit", (e) => {
    e.preventDefault();
    send(addressForm.querySelector("button[type=submit]"));
  });
  codeForm.querySelector("[data-resend]").addEventListener("click", (e) => send(e.currentTarget));
  codeForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(codeForm);
    const code = codeForm.code.value.trim();
    if (!/^\d{6}$/.test(code)) {
      setFieldError(codeForm, "code", t("Il codice è di 6 cifre."));
      codeForm.code.focus();
      return;
    }
    await busy(codeForm.querySelector("button[type=submit]"), async () => {
      try {
        const { data } = await call(tenant, "POST", "/sessions", { body: { [kind.name]: sentTo, code }, token: token() });
        keepSession(data);
        onDone(data);
      } catch (err) {
        if (err.code === "invalid_code") {
          // The message says how many attempts are left.
          setFieldError(codeForm, "code", err.message);
          codeForm.code.focus();
        } else msg.replaceChildren(alert("danger", err.message));
      }
    });
  });
  box.append(addressForm, codeForm, msg);
  return box;
}

const EMAIL = () => ({
  name: "email", label: t("Email"), type: "email", autocomplete: "email", path: "/email-codes", invalid: "invalid_email",
  hint: t("Ti invieremo un codice di sicurezza di 6 cifre."), send: t("Invia email"), missing: t("Scrivi il tuo indirizzo email."),
  codeHint: t("Il codice è nell’email «Codice di sicurezza»: vale 10 minuti."), check: rules.email,
  sent: (to) => t("Ti abbiamo inviato il codice a {email}. Controlla anche la posta indesiderata.", { email: to }),
});

const MOBILE = () => ({
  name: "phone", label: t("Numero di cellulare"), type: "tel", autocomplete: "tel", path: "/phone-codes", invalid: "invalid_phone",
  hint: t("Ti invieremo un SMS con un codice di 6 cifre. Per un numero estero scrivi il prefisso internazionale (ad esempio +44)."),
  send: t("Invia SMS"), missing: t("Scrivi il tuo numero di cellulare."), check: rules.phone,
  codeHint: t("Il codice è nell’SMS che hai appena ricevuto: vale 10 minuti."),
  sent: (to) => t("Ti abbiamo inviato un SMS con il codice al numero {phone}.", { phone: to }),
});

/** Email + 6-digit code; `onDone(opened)` gets the merged session. */
const emailVerification = ({ email = "", onDone }) => codeVerification(EMAIL(), { value: email, onDone });

/**
 * Where the comune requires a proved mobile and this session has not
 * proved the guardian's number: the SMS step, shown above "Invia".
 */
function phoneStep(app, onDone) {
  const proved = session()?.session?.phone;
  const phone = app.guardian?.phone;
  if (!info.tenant.require_verified_phone || app.status !== "draft" || (proved && phone && phoneE164(phone) === proved)) return null;
  return h(
    "section",
    { class: "phone-step mb-4", "aria-labelledby": "phone-step-title" },
    h("h2", { class: "h5", id: "phone-step-title" }, t("Verifica il numero di cellulare")),
    h("p", {}, t("{comune} chiede di verificare il cellulare del genitore prima dell’invio: è il numero indicato nella domanda. Se hai già verificato questo numero per questa domanda, puoi inviarla direttamente.", { comune: info.tenant.name })),
    codeVerification(MOBILE(), { value: phone || "", onDone }),
  );
}

/**
 * "Nuova iscrizione": the pupil's fiscal code and the privacy notice, then
 * the email proved. With `fromId` (Aggiungi un altro figlio) the guardian,
 * the address and the contacts come from that application of the family:
 * one guardian for all siblings, as the API requires.
 */
async function newEnrollment(windowId, fromId = null) {
  const open = openWindows();
  if (!open.length) {
    return show(main, t("Nuova iscrizione"), alert("info", t("Non ci sono periodi di iscrizione aperti in questo momento.")), link("", t("Torna alla pagina iniziale"), "btn btn-outline-primary"));
  }
  let sibling = null;
  if (fromId) {
    if (!session()) return needSession();
    sibling = (await loadApp(fromId)).app;
  }
  const isOpen = (id) => windowById(id)?.status === "open";
  const chosen = isOpen(windowId) ? windowId : sibling && isOpen(sibling.window_id) ? sibling.window_id : open[0].id;
  const pending = store.get("start") || {};
  const privacyText = bilingual("Ho letto l’informativa sul trattamento dei dati personali (art. 13 GDPR)");
  const form = h(
    "form",
    { method: "post", novalidate: true },
    sibling
      ? null
      : choices({ name: "who", legend: t("Chi stai iscrivendo?"), type: "radio", items: [["new", t("Sono un nuovo iscritto")], ["renewal", t("Sono già iscritto: rinnovo l’iscrizione dell’anno scorso")]], checked: ["new"] }),
    open.length > 1
      ? field({ name: "window_id", label: t("Servizio e anno scolastico"), type: "select", value: chosen, options: open.map((w) => [w.id, windowLabel(w)]), required: true })
      : h("p", {}, t("Servizio:"), " ", h("strong", {}, windowLabel(open[0]))),
    field({ name: "pupil.fiscal_code", label: sibling ? t("Codice fiscale dell’altro figlio") : t("Codice fiscale dell’alunno"), value: sibling ? "" : pending.fiscal_code || "", autocomplete: "off", maxlength: 16, required: true, attrs: { autocapitalize: "characters", spellcheck: "false", dir: "ltr" } }),
    privacyText.translated ? bindingNote() : null,
    checkbox({ name: "declarations.privacy", label: legalText(privacyText), checked: !sibling && Boolean(pending.privacy) }),
    h("p", { class: "small" }, h("a", { href: "/privacy.html", target: "_blank", rel: "noopener" }, t("Leggi l’informativa privacy (si apre in una nuova scheda)"))),
    h("button", { type: "submit", class: "btn btn-primary" }, t("Prosegui")),
  );
  const next = h("div", { class: "mt-4" });
  form.addEventListener("change", () => {
    const renewal = form.querySelector("input[name=who]:checked")?.value === "renewal";
    form.querySelector(`[data-field="pupil.fiscal_code"]`).hidden = renewal;
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    if (form.querySelector("input[name=who]:checked")?.value === "renewal") return go("anagrafiche");
    const code = fiscalCode(form.elements["pupil.fiscal_code"].value);
    const privacy = form.elements["declarations.privacy"].checked;
    let bad = false;
    if (!code) {
      setFieldError(form, "pupil.fiscal_code", t("Codice fiscale non valido: controlla i 16 caratteri."));
      bad = true;
    }
    if (!privacy) {
      setFieldError(form, "declarations.privacy", t("Per proseguire devi prendere visione dell’informativa privacy."));
      bad = true;
    }
    if (bad) {
      form.querySelector("[aria-invalid=true]")?.focus();
      return;
    }
    const win = form.elements.window_id ? form.elements.window_id.value : open[0].id;
    if (!sibling) store.set("start", { fiscal_code: code, privacy: true });
    const body = emptyBody(win, code);
    if (sibling) body.guardian = sameGuardian(sibling.guardian, body.guardian);
    const begin = () => {
      store.set("form:nuova", body);
      store.del("start");
      go("domande/nuova/passo/1");
    };
    const s = session();
    if (s && s.session.email) {
      body.guardian.email = s.session.email;
      return begin();
    }
    next.replaceChildren(
      h("h2", { class: "h4" }, t("Verifica la tua email")),
      h("p", {}, t("Per salvare la domanda serve un indirizzo email verificato: lì riceverai la password per riprenderla e i documenti.")),
      emailVerification({
        email: sibling?.guardian?.email || "",
        onDone: (opened) => {
          body.guardian.email = opened.session.email;
          begin();
        },
      }),
    );
    next.querySelector("input")?.focus();
  });
  const siblingName = sibling ? `${sibling.pupil.first_name} ${sibling.pupil.last_name}`.trim() : "";
  show(
    main,
    sibling ? t("Aggiungi un altro figlio") : t("Nuova iscrizione"),
    sibling
      ? alert("info", t("Genitore, indirizzo e contatti sono ripresi dalla domanda di {name}: tutti i figli sono iscritti con lo stesso genitore. Inserisci ora i dati dell’altro figlio.", { name: siblingName }))
      : null,
    h("p", {}, t("Prima di iniziare: il codice fiscale dell’alunno e la presa visione dell’informativa privacy.")),
    form,
    next,
  );
}

/** The guardian of a sibling's application, for a new one: the same person, address and contacts. */
function sameGuardian(from, fallback) {
  const g = from || {};
  const a = g.address || {};
  return {
    ...fallback,
    fiscal_code: g.fiscal_code || fallback.fiscal_code,
    first_name: g.first_name || "",
    last_name: g.last_name || "",
    relationship: g.relationship || null,
    email: g.email || null,
    phone: g.phone || null,
    address: { street: a.street || null, city: a.city || null, postal_code: a.postal_code || null, province: a.province || null },
  };
}

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"];

/** What the form of `service` offers (stops, slots, criteria). */
function serviceInfo(service) {
  return services.find((x) => x.service === service) || { service, stops: [], slots: [], criteria: [] };
}

/** A service part with nothing chosen but `days`: only what its service asks. */
function emptyService(service, days = []) {
  if (service === "trasporto") return { transport: { stop_id: null, direction: "both", autonomous_exit: null, delegates: [] } };
  if (service === "pre_post_scuola") return { slots: [], days: [...days] };
  return { diet: { kind: "none", notes: null }, days: [...days] };
}

/** The service part without the parts of other services (the API reads them as `null`). */
function ownService(service, part) {
  const out = {};
  for (const [k, v] of Object.entries(part || {})) if (v !== null && v !== undefined) out[k] = v;
  return Object.keys(out).length ? out : emptyService(service);
}

function emptyBody(windowId, pupilCode) {
  return {
    window_id: windowId,
    kind: "new",
    pupil: { fiscal_code: pupilCode, first_name: "", last_name: "", birth_date: pupilCode ? birthDateOf(pupilCode) : null, school: null, grade: null, section: null },
    guardian: { fiscal_code: session()?.session.guardian_fiscal_code || "", first_name: "", last_name: "", relationship: null, email: null, phone: null, address: { street: null, city: null, postal_code: null, province: null } },
    service: emptyService(windowById(windowId)?.service, WEEKDAYS),
    isee: null,
    declarations: { privacy: true, regulation: false, truthfulness: false },
  };
}

function passwordLogin() {
  const form = h(
    "form",
    { method: "post", novalidate: true },
    field({ name: "fiscal_code", label: t("Codice fiscale dell’alunno"), autocomplete: "username", maxlength: 16, required: true, attrs: { autocapitalize: "characters", spellcheck: "false", dir: "ltr" } }),
    field({ name: "password", label: t("Password"), type: "password", autocomplete: "current-password", required: true, hint: t("Quella ricevuta per email al primo salvataggio, o quella che hai scelto.") }),
    h("button", { type: "submit", class: "btn btn-primary" }, t("Accedi")),
  );
  const msg = h("div", { "aria-live": "polite" });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    msg.replaceChildren();
    const code = form.fiscal_code.value.trim().toUpperCase();
    const password = form.password.value;
    if (!code) setFieldError(form, "fiscal_code", t("Scrivi il codice fiscale dell’alunno."));
    if (!password) setFieldError(form, "password", t("Scrivi la password."));
    if (!code || !password) return form.querySelector("[aria-invalid=true]")?.focus();
    await busy(form.querySelector("button"), async () => {
      try {
        const { data } = await call(tenant, "POST", "/sessions", { body: { fiscal_code: code, password }, token: token() });
        keepSession(data);
        if (data.session.must_change_password) {
          pendingLogin = { password };
          go("password", { replace: true });
        } else afterLogin();
      } catch (err) {
        msg.replaceChildren(alert("danger", err.message, err.status === 429 && err.retryAfter ? [" ", t("Riprova tra {minutes} minuti.", { minutes: Math.ceil(err.retryAfter / 60) })] : null));
        form.password.focus();
      }
    });
  });
  show(main, t("Riprendi una domanda"), h("p", {}, t("Accedi con il codice fiscale dell’alunno e la password.")), msg, form, h("p", { class: "mt-4" }, t("Hai SPID o CIE?"), " ", link("spid", t("Entra con SPID / CIE"))));
}

// Kept in memory only (never stored): the temporary password just used, so
// that the change form need not ask for it again.
let pendingLogin = null;

function passwordChange() {
  if (!session()) return needSession();
  const form = h(
    "form",
    { method: "post", novalidate: true },
    pendingLogin ? null : field({ name: "current", label: t("Password attuale"), type: "password", autocomplete: "current-password", required: true }),
    field({ name: "new", label: t("Nuova password"), type: "password", autocomplete: "new-password", required: true, hint: t("Almeno 10 caratteri, con lettere e numeri, senza il codice fiscale.") }),
    field({ name: "repeat", label: t("Ripeti la nuova password"), type: "password", autocomplete: "new-password", required: true }),
    h("button", { type: "submit", class: "btn btn-primary" }, t("Salva la nuova password")),
  );
  const msg = h("div", { "aria-live": "polite" });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    msg.replaceChildren();
    const currentPassword = pendingLogin ? pendingLogin.password : form.current.value;
    const next = form.new.value;
    if (next.length < 10 || !/[A-Za-z]/.test(next) || !/\d/.test(next)) {
      setFieldError(form, "new", t("La password deve avere almeno 10 caratteri, con lettere e numeri."));
      return form.new.focus();
    }
    if (next !== form.repeat.value) {
      setFieldError(form, "repeat", t("Le due password non coincidono."));
      return form.repeat.focus();
    }
    await busy(form.querySelector("button"), async () => {
      try {
        await api("POST", "/password", { body: { current: currentPassword, new: next } });
        pendingLogin = null;
        // The session that changed the password goes on with it.
        const kept = session();
        if (kept?.session) store.set("session", { ...kept, session: { ...kept.session, must_change_password: false } });
        store.set("notice", t("Password aggiornata."));
        afterLogin();
      } catch (err) {
        if (err.code === "weak_password") setFieldError(form, "new", err.message) || msg.replaceChildren(alert("danger", err.message));
        else msg.replaceChildren(alert("danger", err.message));
      }
    });
  });
  show(main, t("Scegli una password personale"), h("p", {}, t("La password ricevuta per email è temporanea: scegline una tua per continuare.")), msg, form);
}

// ---------------------------------------------------------------- SPID / CIE

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
const random = (n = 32) => b64url(crypto.getRandomValues(new Uint8Array(n)));

async function spidStart() {
  const spid = config.spid;
  if (!spid || !spid.authorize_url) {
    return show(main, t("Entra con SPID / CIE"), alert("info", t("L’accesso con SPID o CIE non è ancora attivo per questo Comune: usa la tua email.")), link("nuova-iscrizione", t("Nuova iscrizione con la tua email"), "btn btn-primary"));
  }
  const verifier = random(48);
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = random(16);
  const nonce = random(16);
  const redirect = `${location.origin}${base}spid/ritorno`;
  store.set("oidc", { state, nonce, verifier, redirect });
  if (!store.get("return")) store.set("return", `${base}anagrafiche`);
  const url = new URL(spid.authorize_url);
  url.search = new URLSearchParams({ response_type: "code", client_id: spid.client_id, redirect_uri: redirect, scope: "openid profile", state, nonce, code_challenge: challenge, code_challenge_method: "S256" }).toString();
  show(main, t("Entra con SPID / CIE"), h("p", {}, t("Stai per essere indirizzato al servizio di autenticazione.")), h("a", { href: url.toString(), class: "btn btn-primary" }, t("Prosegui con SPID / CIE")));
  location.assign(url.toString());
}

async function spidReturn(q) {
  const pending = store.get("oidc");
  store.del("oidc");
  // The code and state leave the address bar at once.
  history.replaceState({}, "", `${base}spid/ritorno`);
  if (q.get("error")) {
    return show(main, t("Accesso non completato"), alert("warning", t("Hai annullato l’accesso con SPID / CIE.")), link("accesso", t("Torna ad Accedi"), "btn btn-primary"));
  }
  if (!pending || q.get("state") !== pending.state || !q.get("code")) {
    return show(main, t("Accesso non completato"), alert("danger", t("La risposta del servizio di autenticazione non è valida: riprova.")), link("spid", t("Riprova"), "btn btn-primary"));
  }
  show(main, t("Accesso in corso"), h("p", {}, t("Verifica dell’identità…")));
  let idToken;
  try {
    const r = await fetch(config.spid.token_url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code: q.get("code"), redirect_uri: pending.redirect, client_id: config.spid.client_id, code_verifier: pending.verifier }),
    });
    idToken = r.ok ? (await r.json()).id_token : null;
  } catch {
    idToken = null;
  }
  if (!idToken) {
    return show(main, t("Accesso non completato"), alert("danger", t("Il servizio di autenticazione non ha risposto: riprova.")), link("spid", t("Riprova"), "btn btn-primary"));
  }
  try {
    const { data } = await call(tenant, "POST", "/sessions", { body: { id_token: idToken, nonce: pending.nonce }, token: token() });
    keepSession(data);
    afterLogin("anagrafiche");
  } catch (e) {
    show(main, t("Accesso non completato"), alert("danger", e.message), link("spid", t("Riprova"), "btn btn-primary"));
  }
}

// ---------------------------------------------------------------- lists

/** A pupil's name as the family wrote it. */
const pupilName = (a) => `${a.pupil?.first_name || ""} ${a.pupil?.last_name || ""}`.trim() || t("Alunno");

/**
 * The family's most recent application that names a guardian: where
 * "Aggiungi un altro figlio" takes the guardian, address and contacts from.
 */
function guardianSource(apps) {
  return [...apps]
    .filter((a) => a.guardian?.fiscal_code && a.guardian?.first_name && a.status !== "withdrawn")
    .sort((x, y) => String(y.updated_at || "").localeCompare(String(x.updated_at || "")))[0];
}

/** "Aggiungi un altro figlio": a new application with the guardian of `app` (when a window is open). */
function addSiblingLink(app, cls = "btn btn-outline-primary") {
  if (!app || !openWindows().length) return null;
  return link(`nuova-iscrizione?da=${encodeURIComponent(app.id)}`, t("Aggiungi un altro figlio"), cls);
}

/**
 * "Le mie domande": every child's application of the family, and "Invia
 * tutte", which sends each complete draft on its own (one submit each, in
 * turn, with its version) and says how each one went.
 */
async function myApplications() {
  if (!session()) return needSession();
  const { data } = await api("GET", "/applications");
  const notice = store.get("notice");
  store.del("notice");
  let apps = data.applications || [];
  const card = (a) => {
    const name = pupilName(a);
    const win = windowById(a.window_id);
    const incomplete = a.status === "draft" && (a.missing || []).length > 0;
    return h(
      "li",
      { class: "card-window", dataset: { application: a.id } },
      h("h2", { class: "h5 mb-1" }, name, " ", badge(a.status)),
      h("p", { class: "mb-1" }, win ? serviceName(win.service, win.service_name) : a.window_id),
      h(
        "p",
        { class: "mb-2 small" },
        win ? t("Anno scolastico {year}", { year: win.school_year }) : null,
        win ? " · " : null,
        a.kind === "renewal" ? t("rinnovo") : t("nuova iscrizione"),
      ),
      incomplete ? h("p", { class: "mb-2 small text-warning-emphasis" }, t("Da completare: mancano alcuni dati per inviarla.")) : null,
      link(`domande/${a.id}`, named(t("Apri la domanda"), t("Apri la domanda di {name}", { name })), "btn btn-primary btn-sm"),
    );
  };
  const list = h("ul", { class: "list-unstyled" });
  const results = h("section", { class: "send-all-results", "aria-live": "polite", "aria-labelledby": "esito-invio" });
  const sendAll = h("button", { type: "button", class: "btn btn-primary" }, t("Invia tutte"));
  const actions = h("div", { class: "d-grid gap-3 d-md-flex" });
  const draw = () => {
    list.replaceChildren(...apps.map(card));
    const drafts = apps.filter((a) => a.status === "draft" && windowById(a.window_id)?.status === "open");
    actions.replaceChildren(
      ...[
        drafts.length ? sendAll : null,
        addSiblingLink(guardianSource(apps)),
        link("nuova-iscrizione", t("Nuova iscrizione"), "btn btn-outline-primary"),
        link("anagrafiche", t("Rinnova iscrizione"), "btn btn-outline-primary"),
      ].filter(Boolean),
    );
  };
  sendAll.addEventListener("click", () =>
    busy(sendAll, async () => {
      const title = h("h2", { id: "esito-invio", class: "h4", tabindex: "-1" }, t("Esito dell’invio"));
      results.replaceChildren(title, h("p", {}, t("Invio delle domande in corso…")));
      const rows = [];
      for (const a of apps.filter((x) => x.status === "draft")) {
        const name = pupilName(a);
        try {
          // Each application as it is now: its version and what it still lacks.
          const { app, version } = await loadApp(a.id);
          if (app.status !== "draft") {
            rows.push(h("li", { class: "mb-2" }, t("{name}: la domanda non è più una bozza.", { name }), " ", badge(app.status)));
            continue;
          }
          if ((app.missing || []).length) {
            rows.push(
              h("li", { class: "mb-2", dataset: { result: "incomplete" } },
                h("span", { class: "badge bg-warning text-dark me-2" }, t("da completare")),
                t("{name}: mancano alcuni dati, la domanda non è stata inviata.", { name }), " ",
                link(`domande/${a.id}/riepilogo`, t("Completa la domanda di {name}", { name }))),
            );
            continue;
          }
          const { data: sent } = await api("POST", `/applications/${encodeURIComponent(a.id)}/submit`, { ifMatch: version });
          store.del(`form:${a.id}`);
          rows.push(
            h("li", { class: "mb-2", dataset: { result: "submitted" } },
              h("span", { class: "badge bg-success me-2" }, t("inviata")),
              t("{name}: iscrizione inviata, codice utente {code}.", { name, code: sent.user_code })),
          );
        } catch (e) {
          if (e.sessionExpired) return failure(e);
          rows.push(
            h("li", { class: "mb-2", dataset: { result: "error" } },
              h("span", { class: "badge bg-danger me-2" }, t("non inviata")),
              t("{name}: la domanda non è stata inviata.", { name }), " ", e.message, " ",
              link(`domande/${a.id}/riepilogo`, t("Apri il riepilogo di {name}", { name }))),
          );
        }
      }
      results.replaceChildren(
        title,
        rows.length ? h("ul", { class: "list-unstyled" }, rows) : h("p", {}, t("Non ci sono bozze da inviare.")),
        rows.length ? h("p", { class: "small" }, t("Per ogni domanda inviata ti abbiamo mandato per email la lettera con il codice utente.")) : null,
      );
      try {
        apps = (await api("GET", "/applications")).data.applications || [];
      } catch (e) {
        if (e.sessionExpired) return failure(e);
      }
      draw();
      title.focus();
    }),
  );
  draw();
  show(
    main,
    t("Le mie domande"),
    notice ? alert("success", notice) : null,
    apps.length ? list : h("p", {}, t("Non hai ancora domande.")),
    results,
    actions,
  );
}

async function renewals() {
  if (!session()) return needSession();
  const { data } = await api("GET", "/renewals");
  const list = data.renewable || [];
  const msg = h("div", { "aria-live": "polite" });
  const items = list.map((r) => {
    const name = `${r.pupil.first_name} ${r.pupil.last_name}`;
    const wins = openWindows().filter((w) => w.service === r.service);
    const li = h("li", { class: "card-window" }, h("h2", { class: "h5 mb-1" }, name), h("p", { class: "mb-2" }, serviceName(r.service, r.service_name), " · ", t("codice utente {code}", { code: r.user_code })));
    if (r.blocked === "payment_arrears") {
      li.append(alert("warning", t("Rinnovo bloccato: risultano pagamenti insoluti. Regolarizza il credito e contatta l’ufficio."), contacts()));
    } else if (!wins.length) {
      li.append(h("p", {}, t("Nessun periodo di iscrizione aperto per questo servizio.")));
    } else {
      const sel = wins.length > 1 ? field({ name: `window-${r.user_code}`, label: t("Periodo di iscrizione"), type: "select", options: wins.map((w) => [w.id, windowLabel(w)]) }) : null;
      const button = h("button", { type: "button", class: "btn btn-primary btn-sm" }, named(t("Rinnova iscrizione"), t("Rinnova iscrizione di {name}", { name })));
      button.addEventListener("click", () =>
        busy(button, async () => {
          msg.replaceChildren();
          const windowId = sel ? sel.querySelector("select").value : wins[0].id;
          try {
            const { data: app } = await api("POST", "/renewals", { body: { user_code: r.user_code, window_id: windowId } });
            go(`domande/${app.id}/passo/1`);
          } catch (e) {
            if (e.sessionExpired) return failure(e);
            if (e.code === "email_verification_required") {
              msg.replaceChildren(alert("info", t("Per rinnovare serve anche un indirizzo email verificato.")), emailVerification({ onDone: () => button.click() }));
              msg.querySelector("input")?.focus();
            } else {
              msg.replaceChildren(alert(e.status === 409 ? "warning" : "danger", e.message));
            }
          }
        }),
      );
      li.append(sel || "", button);
    }
    return li;
  });
  show(
    main,
    t("Anagrafiche"),
    h("p", {}, t("Gli alunni iscritti l’anno scorso con te come genitore. Il rinnovo non è automatico: senza domanda l’alunno non è iscritto.")),
    msg,
    list.length ? h("ul", { class: "list-unstyled" }, items) : h("p", {}, t("Non risultano alunni da rinnovare per il tuo accesso. Se li hai iscritti con un’altra email, entra con SPID / CIE.")),
  );
}

// ---------------------------------------------------------------- the form

/** The five steps' names, in the page's language. */
const steps = () => [t("Alunno"), t("Genitore"), t("Servizio"), t("ISEE e allegati"), t("Dichiarazioni e privacy")];
const STEP_COUNT = 5;
/** Each field's name, for the error summary and the "missing" list. */
const labels = () => ({
  "pupil.fiscal_code": t("Codice fiscale dell’alunno"),
  "pupil.first_name": t("Nome dell’alunno"),
  "pupil.last_name": t("Cognome dell’alunno"),
  "pupil.birth_date": t("Data di nascita"),
  "pupil.school": t("Scuola"),
  "pupil.grade": t("Classe"),
  "pupil.section": t("Sezione"),
  "guardian.fiscal_code": t("Codice fiscale del genitore"),
  "guardian.first_name": t("Nome del genitore"),
  "guardian.last_name": t("Cognome del genitore"),
  "guardian.relationship": t("Relazione con l’alunno"),
  "guardian.email": t("Email"),
  "guardian.phone": t("Cellulare o telefono"),
  "guardian.address.street": t("Indirizzo"),
  "guardian.address.city": t("Comune di residenza"),
  "guardian.address.postal_code": t("CAP"),
  "guardian.address.province": t("Provincia"),
  "service.diet.kind": t("Dieta"),
  "service.diet.notes": t("Note sulla dieta"),
  "service.days": t("Giorni di frequenza"),
  "service.slots": t("Fasce orarie"),
  "service.criteria": t("Criteri per la graduatoria"),
  "service.transport.stop_id": t("Fermata"),
  "service.transport.direction": t("Viaggi"),
  "service.transport.autonomous_exit": t("Discesa alla fermata"),
  "service.transport.delegates": t("Persone delegate"),
  "service.pickup.autonomous_exit": t("Uscita dal post scuola"),
  "service.pickup.delegates": t("Persone delegate"),
  "isee.isee_cents": t("Valore ISEE"),
  "isee.attachment_id": t("Attestazione ISEE"),
  "attachments.medical_certificate": t("Certificato medico"),
  "declarations.privacy": t("Informativa privacy"),
  "declarations.regulation": t("Regolamento del servizio"),
  "declarations.truthfulness": t("Dichiarazione di veridicità"),
  window_id: t("Periodo di iscrizione"),
});
/** A delegate's fields (the keys of the contract). */
const DELEGATE_FIELDS = ["first_name", "last_name", "fiscal_code", "relationship"];
function labelOf(path) {
  const d = path.match(/^service\.(transport|pickup)\.delegates\.(\d+)\.(\w+)$/);
  if (d) {
    const n = Number(d[2]) + 1;
    const byField = {
      first_name: () => t("Persona delegata {n}: nome", { n }),
      last_name: () => t("Persona delegata {n}: cognome", { n }),
      fiscal_code: () => t("Persona delegata {n}: codice fiscale", { n }),
      relationship: () => t("Persona delegata {n}: relazione con l’alunno", { n }),
    };
    return byField[d[3]] ? byField[d[3]]() : t("Persona delegata {n}: {field}", { n, field: d[3] });
  }
  return labels()[path] || path;
}
function stepOf(path) {
  if (path.startsWith("pupil.")) return 1;
  if (path.startsWith("guardian.")) return 2;
  if (path.startsWith("service.") || path === "window_id") return 3;
  if (path.startsWith("isee") || path.startsWith("attachments.")) return 4;
  return 5;
}
const diets = () => [["none", t("Nessuna dieta speciale")], ["medical", t("Dieta sanitaria (serve il certificato medico)")], ["religious", t("Dieta etico-religiosa")], ["vegetarian", t("Dieta vegetariana")]];
const relationships = () => [["", t("Scegli")], ["madre", t("Madre")], ["padre", t("Padre")], ["tutore", t("Tutore")]];
const grades = () => [["", t("Scegli")], ["1", t("1ª")], ["2", t("2ª")], ["3", t("3ª")], ["4", t("4ª")], ["5", t("5ª")]];

const getPath = (obj, path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
function setPath(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (o[k] == null || typeof o[k] !== "object") o[k] = {};
    o = o[k];
  }
  o[keys.at(-1)] = value;
}

/** The application's body (what PUT takes) from what GET returns. */
function bodyOf(app) {
  const { window_id, kind, pupil, guardian, service, isee, declarations } = app;
  const kindOf = windowById(window_id)?.service;
  return structuredClone({ window_id, kind, pupil, guardian: { ...guardian, address: guardian.address || {} }, service: ownService(kindOf, service), isee, declarations });
}

/** Empty strings become null where the contract allows null. */
function cleaned(body) {
  const b = structuredClone(body);
  const nullable = ["pupil.birth_date", "pupil.school", "pupil.grade", "pupil.section", "guardian.relationship", "guardian.email", "guardian.phone", "guardian.address.street", "guardian.address.city", "guardian.address.postal_code", "guardian.address.province", "service.diet.notes"];
  for (const p of nullable) {
    const v = getPath(b, p);
    if (typeof v === "string" && v.trim() === "") setPath(b, p, null);
    else if (typeof v === "string") setPath(b, p, v.trim());
  }
  for (const p of ["pupil.fiscal_code", "guardian.fiscal_code"]) setPath(b, p, String(getPath(b, p) || "").trim().toUpperCase());
  for (const p of ["pupil.first_name", "pupil.last_name", "guardian.first_name", "guardian.last_name"]) setPath(b, p, String(getPath(b, p) || "").trim());
  if (b.guardian.address.province) b.guardian.address.province = b.guardian.address.province.toUpperCase();
  for (const part of [b.service?.transport, b.service?.pickup]) {
    for (const d of part?.delegates || []) {
      for (const k of DELEGATE_FIELDS) d[k] = String(d[k] || "").trim();
      d.fiscal_code = d.fiscal_code.toUpperCase();
    }
  }
  return b;
}

/** Where the form of `id` ("nuova" for a new one) stands in this tab. */
function localForm(id) {
  return store.get(`form:${id}`);
}

async function loadApp(id) {
  const { data, etag } = await api("GET", `/applications/${encodeURIComponent(id)}`);
  return { app: data, version: etag ?? data.version };
}

/** Client-side checks of one field, as the parent leaves it. */
function clientCheck(path, value) {
  const v = typeof value === "string" ? value.trim() : value;
  if (v === "" || v === null || v === undefined) return "";
  if (path.endsWith("fiscal_code")) return rules.fiscal_code(v);
  if (path === "guardian.email") return rules.email(v);
  if (path === "guardian.phone") return rules.phone(v);
  if (path === "guardian.address.postal_code") return rules.postal_code(v);
  if (path === "guardian.address.province") return rules.province(v);
  return "";
}

async function formStep(id, step) {
  if (!session()) return needSession();
  step = Math.min(Math.max(step, 1), STEP_COUNT);
  const LABELS = labels();
  const STEPS = steps();
  let app = null;
  let version = null;
  // What this tab kept, without its bookkeeping.
  let { _version: keptVersion, ...kept } = localForm(id) || {};
  let body = Object.keys(kept).length ? kept : null;
  if (id !== "nuova") {
    ({ app, version } = await loadApp(id));
    if (!body || keptVersion !== app.version) body = bodyOf(app);
    if (!["draft", "submitted", "changes_requested"].includes(app.status)) return go(`domande/${id}`, { replace: true });
  } else if (!body) {
    return go("nuova-iscrizione", { replace: true });
  }
  const win = windowById(body.window_id);
  const keep = () => store.set(`form:${id}`, { ...body, _version: app ? app.version : null });

  const steppers = h(
    "nav",
    { class: "form-steps", "aria-label": t("Passi della domanda") },
    h("p", { class: "form-steps-index mb-1" }, t("Passo {step} di {total}", { step, total: STEPS.length })),
    h(
      "ol",
      {},
      STEPS.map((label, i) =>
        h("li", { class: i + 1 === step ? "current" : "" },
          i + 1 === step ? h("span", { "aria-current": "step" }, label) : h("a", { href: `${base}domande/${id}/passo/${i + 1}` }, label)),
      ),
    ),
    h("div", { class: "progress", "aria-hidden": "true" }, h("div", { class: "progress-bar", style: { width: `${(step / STEPS.length) * 100}%` } })),
  );

  const v = (p) => getPath(body, p) ?? "";
  const form = h("form", { method: "post", novalidate: true, class: "mt-4" });
  const sections = {
    1: () => [
      field({ name: "pupil.fiscal_code", label: LABELS["pupil.fiscal_code"], value: v("pupil.fiscal_code"), maxlength: 16, required: true, autocomplete: "off", attrs: { autocapitalize: "characters", spellcheck: "false", dir: "ltr" } }),
      field({ name: "pupil.first_name", label: LABELS["pupil.first_name"], value: v("pupil.first_name"), required: true, autocomplete: "off" }),
      field({ name: "pupil.last_name", label: LABELS["pupil.last_name"], value: v("pupil.last_name"), required: true, autocomplete: "off" }),
      field({ name: "pupil.birth_date", label: LABELS["pupil.birth_date"], type: "date", value: v("pupil.birth_date"), required: true }),
      schools.length
        ? field({ name: "pupil.school", label: t("Scuola frequentata nel prossimo anno"), type: "select", value: v("pupil.school"), options: [["", t("Scegli")], ...schools.map((n) => [n, n])], required: true })
        : field({ name: "pupil.school", label: t("Scuola frequentata nel prossimo anno"), value: v("pupil.school"), required: true, hint: t("Ad esempio: Primaria G. Mazzini") }),
      field({ name: "pupil.grade", label: LABELS["pupil.grade"], type: "select", value: v("pupil.grade"), options: grades(), required: true }),
      field({ name: "pupil.section", label: LABELS["pupil.section"], value: v("pupil.section"), hint: t("Facoltativa, se già nota"), maxlength: 3 }),
    ],
    2: () => [
      field({ name: "guardian.fiscal_code", label: LABELS["guardian.fiscal_code"], value: v("guardian.fiscal_code"), maxlength: 16, required: true, autocomplete: "off", attrs: { autocapitalize: "characters", spellcheck: "false", dir: "ltr", readonly: Boolean(session()?.session.guardian_fiscal_code) } }),
      field({ name: "guardian.first_name", label: LABELS["guardian.first_name"], value: v("guardian.first_name"), required: true, autocomplete: "given-name" }),
      field({ name: "guardian.last_name", label: LABELS["guardian.last_name"], value: v("guardian.last_name"), required: true, autocomplete: "family-name" }),
      field({ name: "guardian.relationship", label: LABELS["guardian.relationship"], type: "select", value: v("guardian.relationship"), options: relationships(), required: true }),
      field({ name: "guardian.email", label: LABELS["guardian.email"], type: "email", value: v("guardian.email"), required: true, autocomplete: "email", attrs: { dir: "ltr" } }),
      field({ name: "guardian.phone", label: LABELS["guardian.phone"], type: "tel", value: v("guardian.phone"), required: true, autocomplete: "tel", hint: t("Ad esempio {phone}", { phone: "+39 333 1234567" }), attrs: { dir: "ltr" } }),
      field({ name: "guardian.address.street", label: t("Indirizzo di residenza"), value: v("guardian.address.street"), required: true, autocomplete: "street-address" }),
      field({ name: "guardian.address.city", label: LABELS["guardian.address.city"], value: v("guardian.address.city"), required: true, autocomplete: "address-level2" }),
      field({ name: "guardian.address.postal_code", label: LABELS["guardian.address.postal_code"], value: v("guardian.address.postal_code"), required: true, inputmode: "numeric", maxlength: 5, autocomplete: "postal-code", attrs: { dir: "ltr" } }),
      field({ name: "guardian.address.province", label: t("Provincia (sigla)"), value: v("guardian.address.province"), required: true, maxlength: 2, autocomplete: "address-level1" }),
    ],
    3: () => [
      h("p", { class: "mb-5" }, t("Servizio:"), " ", h("strong", {}, windowLabel(win) || body.window_id)),
      ...serviceQuestions(),
    ],
    4: () => {
      const has = body.isee !== null && body.isee !== undefined;
      const medical = getPath(body, "service.diet.kind") === "medical";
      return [
        choices({ name: "isee.present", legend: t("Vuoi presentare l’ISEE per una tariffa agevolata?"), type: "radio", items: [["no", t("No, pago la tariffa massima")], ["yes", t("Sì, presento l’ISEE")]], checked: [has ? "yes" : "no"] }),
        h(
          "div",
          { hidden: !has, "data-isee": "" },
          field({ name: "isee.isee_cents", label: t("Valore ISEE in euro"), value: has && body.isee.isee_cents != null ? euroInput(body.isee.isee_cents) : "", inputmode: "decimal", hint: t("Ad esempio {amount}", { amount: euroInput(1250000) }), attrs: { dir: "ltr" } }),
          uploadField("isee.attachment_id", "isee", t("Attestazione ISEE (PDF, JPEG o PNG, al massimo 5 MB)"), has && body.isee.attachment_id),
        ),
        medical
          ? uploadField("attachments.medical_certificate", "medical_certificate", t("Certificato medico per la dieta sanitaria (PDF, JPEG o PNG, al massimo 5 MB)"), store.get(`medical:${id}`))
          : (win?.service || "refezione") === "refezione"
            ? h("p", {}, t("Il certificato medico serve solo per la dieta sanitaria."))
            : null,
      ];
    },
    5: () => [
      // The declarations' wording is fixed by law: the Italian text binds, a translation helps.
      bindingNote(),
      checkbox({ name: "declarations.privacy", label: legalText(bilingual("Ho preso visione dell’informativa sul trattamento dei dati personali (art. 13 GDPR)")), checked: Boolean(getPath(body, "declarations.privacy")) }),
      checkbox({ name: "declarations.regulation", label: legalText(bilingual("Accetto il regolamento comunale del servizio")), checked: Boolean(getPath(body, "declarations.regulation")) }),
      checkbox({ name: "declarations.truthfulness", label: legalText(bilingual("Dichiaro che i dati sono veri, consapevole delle sanzioni dell’art. 76 del DPR 445/2000")), checked: Boolean(getPath(body, "declarations.truthfulness")) }),
      h("p", { class: "small" }, h("a", { href: "/privacy.html", target: "_blank", rel: "noopener" }, t("Informativa privacy (si apre in una nuova scheda)"))),
    ],
  };

  /** The questions of the window's own service. */
  function serviceQuestions() {
    const kind = win?.service || "refezione";
    const offer = serviceInfo(kind);
    body.service = body.service || emptyService(kind);
    const criteria = offer.criteria?.length
      ? [choices({ name: "service.criteria", legend: t("Criteri per la graduatoria (facoltativi)"), hint: t("Dichiarazione sostitutiva (DPR 445/2000): l’ufficio può verificarla. Ogni criterio vale i punti indicati."), items: offer.criteria.map((c) => [c.code, c.points === 1 ? t("{label} ({points} punto)", { label: c.label, points: c.points }) : t("{label} ({points} punti)", { label: c.label, points: c.points })]), checked: body.service.criteria || [] })]
      : [];
    if (kind === "trasporto") {
      const tr = (body.service.transport = body.service.transport || emptyService(kind).transport);
      return [
        field({ name: "service.transport.stop_id", label: LABELS["service.transport.stop_id"], type: "select", value: tr.stop_id || "", options: [["", t("Scegli la fermata")], ...offer.stops.map((st) => [st.id, `${st.name} – ${st.route}`])], required: true }),
        choices({ name: "service.transport.direction", legend: t("Viaggi"), type: "radio", items: [["both", t("Andata e ritorno")], ["to_school", t("Solo andata (verso la scuola)")], ["from_school", t("Solo ritorno (dalla scuola)")]], checked: [tr.direction || "both"], required: true }),
        ...meeting("service.transport", tr, t("Alla fermata del ritorno"), legalText(bilingual("Autorizzo mio figlio o mia figlia a scendere da solo dallo scuolabus alla fermata del ritorno"))),
        ...criteria,
      ];
    }
    if (kind === "pre_post_scuola") {
      const part = body.service;
      const post = (part.slots || []).includes("post");
      const pickup = (part.pickup = part.pickup || { autonomous_exit: null, delegates: [] });
      if (!post) delete part.pickup;
      return [
        choices({ name: "service.slots", legend: t("Fasce orarie"), items: offer.slots.map((sl) => [sl.id, sl.name]), checked: part.slots || [], required: true }),
        choices({ name: "service.days", legend: t("Giorni di frequenza"), items: days(), checked: part.days || [], required: true }),
        h("div", { hidden: !post, "data-pickup": "" }, ...meeting("service.pickup", pickup, t("All’uscita dal post scuola"), legalText(bilingual("Autorizzo mio figlio o mia figlia a uscire da solo al termine del post scuola")))),
        ...criteria,
      ];
    }
    return [
      choices({ name: "service.diet.kind", legend: t("Dieta"), type: "radio", items: diets(), checked: [v("service.diet.kind") || "none"], required: true }),
      field({ name: "service.diet.notes", label: t("Note sulla dieta"), type: "textarea", value: v("service.diet.notes"), hint: t("Facoltative: ad esempio gli alimenti da escludere."), maxlength: 500 }),
      choices({ name: "service.days", legend: t("Giorni di frequenza"), items: days(), checked: body.service?.days || [], required: true }),
      ...criteria,
    ];
  }

  /**
   * Who meets the child: the parents' authorization to leave alone (with
   * its law), or the adults who may meet the child, up to four.
   */
  function meeting(prefix, part, legend, alone) {
    const list = h("div", { "data-delegates": prefix });
    const drawDelegates = () => {
      const delegates = part.delegates || [];
      list.replaceChildren(
        h("p", { class: "fw-semibold mb-2" }, t("Persone delegate")),
        h("p", { class: "form-text mt-0" }, t("Adulti, oltre ai genitori, che possono accogliere l’alunno (al massimo 4). Se lo accoglie sempre un genitore, non aggiungere nessuno.")),
        ...delegates.map((d, i) => {
          const at = (f) => `${prefix}.delegates.${i}.${f}`;
          const remove = h("button", { type: "button", class: "btn btn-outline-secondary btn-sm" }, t("Rimuovi la persona delegata {n}", { n: i + 1 }));
          remove.addEventListener("click", () => {
            part.delegates.splice(i, 1);
            keep();
            drawDelegates();
            list.querySelector("button")?.focus();
          });
          return h(
            "fieldset",
            { class: "delegate mb-4" },
            h("legend", { class: "fs-6 fw-semibold mb-4" }, t("Persona delegata {n}", { n: i + 1 })),
            field({ name: at("first_name"), label: t("Nome"), value: d.first_name || "", required: true, autocomplete: "off" }),
            field({ name: at("last_name"), label: t("Cognome"), value: d.last_name || "", required: true, autocomplete: "off" }),
            field({ name: at("fiscal_code"), label: t("Codice fiscale"), value: d.fiscal_code || "", maxlength: 16, required: true, autocomplete: "off", attrs: { autocapitalize: "characters", spellcheck: "false", dir: "ltr" } }),
            field({ name: at("relationship"), label: t("Relazione con l’alunno"), value: d.relationship || "", required: true, hint: t("Ad esempio nonna, zio, vicina di casa"), maxlength: 40 }),
            remove,
          );
        }),
      );
      if (delegates.length < 4) {
        const add = h("button", { type: "button", class: "btn btn-outline-primary btn-sm mb-4" }, t("Aggiungi una persona delegata"));
        add.addEventListener("click", () => {
          part.delegates = [...(part.delegates || []), { first_name: "", last_name: "", fiscal_code: "", relationship: "" }];
          keep();
          drawDelegates();
          const fields = list.querySelectorAll("fieldset.delegate");
          fields[fields.length - 1]?.querySelector("input")?.focus();
        });
        list.append(add);
      }
      list.hidden = part.autonomous_exit !== false;
    };
    drawDelegates();
    const exit = choices({
      name: `${prefix}.autonomous_exit`,
      legend,
      type: "radio",
      items: [["false", t("Lo accoglie un genitore o una persona delegata")], ["true", alone]],
      checked: part.autonomous_exit === null || part.autonomous_exit === undefined ? [] : [String(part.autonomous_exit)],
      hint: t("L’uscita autonoma dei minori di 14 anni è regolata dall’art. 19-bis della legge 172/2017: con l’autorizzazione il personale è sollevato dalla vigilanza dopo quel momento."),
      required: true,
    });
    exit.addEventListener("change", (e) => {
      list.hidden = e.target.value !== "false";
    });
    return [exit, list];
  }

  function uploadField(name, kind, label, uploaded) {
    const id2 = fieldId(name);
    const wrap = h(
      "div",
      { class: "mb-4", dataset: { field: name } },
      h("label", { for: id2, class: "d-block fw-semibold mb-2" }, label),
      h("input", { type: "file", id: id2, accept: "application/pdf,image/jpeg,image/png", class: "form-control", "aria-describedby": `${id2}-state ${id2}-err` }),
      h("p", { id: `${id2}-state`, class: "small mt-2", "aria-live": "polite" }, uploaded ? t("File caricato.") : t("Nessun file caricato.")),
      h("div", { id: `${id2}-err`, class: "field-error", "aria-live": "polite" }),
    );
    wrap.querySelector("input").addEventListener("change", async (e) => {
      const file = e.target.files[0];
      if (!file) return;
      setFieldError(form, name, "");
      const state = wrap.querySelector(`#${id2}-state`);
      const type = file.type || (file.name.toLowerCase().endsWith(".pdf") ? "application/pdf" : "");
      if (!["application/pdf", "image/jpeg", "image/png"].includes(type)) return setFieldError(form, name, t("Formato non ammesso: usa PDF, JPEG o PNG."));
      if (file.size > 5 * 1024 * 1024) return setFieldError(form, name, t("Il file supera i 5 MB."));
      state.textContent = t("Caricamento in corso…");
      try {
        // Uploads need the application: save the draft first.
        if (!app) await save({ quiet: true });
        const { data } = await api("POST", `/applications/${encodeURIComponent(app.id)}/attachments`, { body: { kind, filename: file.name, content_type: type, size: file.size } });
        await upload(data.upload_url, file, type);
        if (kind === "isee") {
          body.isee = { ...(body.isee || {}), attachment_id: data.attachment_id };
        } else store.set(`medical:${app.id}`, data.attachment_id);
        keep();
        state.textContent = t("File caricato: {file}.", { file: file.name });
        if (kind === "isee") await save({ quiet: true });
      } catch (err) {
        state.textContent = t("Nessun file caricato.");
        if (err.fields?.length) setFieldError(form, name, err.fields[0].message);
        else setFieldError(form, name, err.message);
      }
    });
    return wrap;
  }

  // Every save needs the privacy notice taken in (a renewal starts without it).
  if (step !== 5 && !getPath(body, "declarations.privacy")) {
    form.append(
      bindingNote(),
      checkbox({ name: "declarations.privacy", label: legalText(bilingual("Ho preso visione dell’informativa sul trattamento dei dati personali (art. 13 GDPR)")), checked: false }),
      h("p", { class: "small" }, h("a", { href: "/privacy.html", target: "_blank", rel: "noopener" }, t("Informativa privacy (si apre in una nuova scheda)"))),
    );
  }
  form.append(...sections[step]());
  const msg = h("div", { "aria-live": "polite", class: "mt-3" });
  const saveButton = h("button", { type: "button", class: "btn btn-outline-primary" }, t("Salva bozza"));
  const prev = step > 1 ? h("a", { href: `${base}domande/${id}/passo/${step - 1}`, class: "btn btn-outline-secondary" }, t("Indietro")) : null;
  const nextButton = h("button", { type: "submit", class: "btn btn-primary" }, step < STEPS.length ? t("Avanti") : t("Vai al riepilogo"));
  form.append(h("div", { class: "step-actions" }, prev, saveButton, nextButton));

  // Every change goes into the body at once, and into this tab's storage.
  const readInput = (el) => {
    const name = el.name;
    if (!name || name === "isee.present") return;
    const delegate = name.match(/^service\.(transport|pickup)\.delegates\.(\d+)\.(\w+)$/);
    if (["service.days", "service.slots", "service.criteria"].includes(name)) {
      const key = name.split(".")[1];
      body.service[key] = [...form.querySelectorAll(`input[name='${name}']:checked`)].map((x) => x.value);
      if (name === "service.slots") {
        const post = body.service.slots.includes("post");
        if (post) body.service.pickup = body.service.pickup || { autonomous_exit: null, delegates: [] };
        else delete body.service.pickup;
        const box = form.querySelector("[data-pickup]");
        if (box) box.hidden = !post;
      }
    } else if (delegate) {
      body.service[delegate[1]].delegates[Number(delegate[2])][delegate[3]] = el.value;
    } else if (name.endsWith(".autonomous_exit")) {
      if (!el.checked) return;
      const part = body.service[name.split(".")[1]];
      part.autonomous_exit = el.value === "true";
      // The authorization and delegates exclude each other.
      if (part.autonomous_exit) part.delegates = [];
      const list = form.querySelector(`[data-delegates='service.${name.split(".")[1]}']`);
      if (list && part.autonomous_exit) list.querySelectorAll("fieldset.delegate").forEach((f) => f.remove());
    } else if (name.startsWith("declarations.")) {
      setPath(body, name, el.checked);
    } else if (name === "isee.isee_cents") {
      // Whichever decimal mark the family's language uses.
      body.isee = { ...(body.isee || {}), isee_cents: parseEuro(el.value) };
    } else if (el.type === "radio") {
      if (el.checked) setPath(body, name, el.value);
    } else {
      setPath(body, name, el.value);
    }
  };
  form.addEventListener("input", (e) => {
    readInput(e.target);
    keep();
  });
  form.addEventListener("change", (e) => {
    if (e.target.name === "isee.present") {
      const yes = e.target.value === "yes";
      form.querySelector("[data-isee]").hidden = !yes;
      body.isee = yes ? { isee_cents: null, attachment_id: null, ...(body.isee || {}) } : null;
    } else readInput(e.target);
    keep();
  });
  form.addEventListener("focusout", (e) => {
    const el = e.target;
    if (!el.name || el.type === "checkbox" || el.type === "radio") return;
    if (el.name === "pupil.fiscal_code" && fiscalCode(el.value) && !getPath(body, "pupil.birth_date")) {
      setPath(body, "pupil.birth_date", birthDateOf(fiscalCode(el.value)));
      const date = form.querySelector(`#${fieldId("pupil.birth_date")}`);
      if (date) date.value = body.pupil.birth_date;
    }
    if (el.name === "isee.isee_cents" && el.value.trim() && !Number.isFinite(body.isee?.isee_cents)) {
      return setFieldError(form, el.name, t("Scrivi il valore ISEE in euro, ad esempio {amount}.", { amount: euroInput(1250000) }));
    }
    setFieldError(form, el.name, clientCheck(el.name, el.value));
  });

  /** Show the API's (or our) field errors: on this step's fields, and all in the summary. */
  function showErrors(message, fields) {
    clearFieldErrors(form);
    for (const f of fields) setFieldError(form, f.field, f.message);
    const box = errorSummary(message, fields, labelOf, (path) => {
      if (stepOf(path) !== step && !form.querySelector(`#${CSS.escape(fieldId(path))}`)) return goToStep(id, path, fields);
    });
    msg.replaceChildren(box);
    box.focus();
  }

  /** Save the draft (POST the first time, then PUT with If-Match). */
  async function save({ quiet = false } = {}) {
    const payload = cleaned(body);
    if (payload.isee && !Number.isFinite(payload.isee.isee_cents)) payload.isee.isee_cents = null;
    // The family's language: its mails carry that translation under the Italian text.
    payload.language = current();
    if (!app) {
      const { data, etag } = await api("POST", "/applications", { body: payload });
      app = data;
      version = etag ?? data.version;
      store.del("form:nuova");
      id = app.id;
      body = bodyOf(app);
      keep();
      history.replaceState({}, "", `${base}domande/${app.id}/passo/${step}`);
      if (!quiet) {
        const mailed = session()?.session.email && !session()?.session.guardian_fiscal_code;
        msg.replaceChildren(
          alert(
            "success",
            t("Bozza salvata."),
            " ",
            mailed ? [t("Ti abbiamo inviato per email una password temporanea: con il codice fiscale dell’alunno ti servirà per riprendere la domanda."), " "] : null,
            t("Attenzione: la bozza non è un’iscrizione, ricorda di inviare la domanda."),
          ),
        );
      }
      return app;
    }
    const { data, etag } = await api("PUT", `/applications/${encodeURIComponent(app.id)}`, { body: payload, ifMatch: version });
    app = data;
    version = etag ?? data.version;
    body = bodyOf(app);
    keep();
    if (!quiet) msg.replaceChildren(alert("success", t("Bozza salvata alle {time}. La bozza non è un’iscrizione: ricorda di inviare la domanda.", { time: fmtTime(app.updated_at) })));
    return app;
  }

  async function trySave(button, then) {
    await busy(button, async () => {
      clearFieldErrors(form);
      msg.replaceChildren();
      try {
        await save();
        if (then) then();
      } catch (e) {
        // A first draft needs both names and fiscal codes: until then the
        // parent moves on, and the input stays in this tab.
        if (then && !app && e.code === "incomplete" && step < STEP_COUNT) return then();
        handleSaveError(e);
      }
    });
  }

  function handleSaveError(e) {
    if (e.sessionExpired) {
      keep();
      return failure(e);
    }
    if (e.fields?.length) return showErrors(e.message, e.fields);
    if (e.code === "version_conflict") {
      const reload = h("button", { type: "button", class: "btn btn-outline-primary btn-sm me-2" }, t("Carica la versione salvata"));
      const overwrite = h("button", { type: "button", class: "btn btn-primary btn-sm" }, t("Salva i miei dati sopra l’altra versione"));
      reload.addEventListener("click", () => {
        store.del(`form:${id}`);
        route();
      });
      overwrite.addEventListener("click", () =>
        busy(overwrite, async () => {
          try {
            const fresh = await loadApp(app.id);
            app = fresh.app;
            version = fresh.version;
            await save();
          } catch (err) {
            handleSaveError(err);
          }
        }),
      );
      msg.replaceChildren(alert("warning", h("p", {}, t("La domanda è stata modificata in un’altra scheda o da un altro dispositivo. I dati che vedi qui non sono andati persi: scegli quale versione tenere.")), reload, overwrite));
      return msg.querySelector(".alert").focus?.();
    }
    if (e.code === "duplicate_pupil") {
      return msg.replaceChildren(alert("warning", e.message, " ", link("accedi", t("Accedi con codice fiscale e password"))));
    }
    if (e.code === "window_closed") {
      return msg.replaceChildren(alert("warning", e.message, " ", t("I dati inseriti restano su questo dispositivo finché non chiudi la scheda.")));
    }
    msg.replaceChildren(alert("danger", e.message));
  }

  saveButton.addEventListener("click", () => trySave(saveButton));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    // Check this step's fields as typed; the API has the last word.
    clearFieldErrors(form);
    const problems = [];
    for (const el of form.querySelectorAll("input[name], select[name], textarea[name]")) {
      if (el.type === "checkbox" || el.type === "radio" || el.type === "file") continue;
      const p = clientCheck(el.name, el.value);
      if (p) problems.push({ field: el.name, message: p });
    }
    if (problems.length) return showErrors(t("Controlla i campi indicati."), problems);
    trySave(nextButton, () => {
      const at = app ? app.id : id;
      go(step < STEPS.length ? `domande/${at}/passo/${step + 1}` : `domande/${at}/riepilogo`);
    });
  });

  show(
    main,
    app && app.kind === "renewal" ? t("Rinnovo dell’iscrizione") : t("Domanda d’iscrizione"),
    h("p", { class: "text-muted mb-2" }, windowLabel(win)),
    app ? statusLine(app) : null,
    app ? changeRequestBox(app) : null,
    steppers,
    h("h2", { class: "h4 mt-4" }, t("{n}. {step}", { n: step, step: STEPS[step - 1] })),
    h("p", { class: "small" }, t("I campi con * sono necessari per inviare la domanda; puoi salvare la bozza in qualsiasi momento.")),
    msg,
    form,
  );
}

/**
 * Whether the family may still change the application: while its window is
 * open, or, when the office asked for changes, until the request's due time
 * (even after the window's close).
 */
function canEdit(app, win) {
  if (app.status === "changes_requested") return Boolean(app.change_request) && new Date(app.change_request.due_at) >= new Date();
  return ["draft", "submitted"].includes(app.status) && win?.status === "open";
}

/** The office's request for changes, as the family reads it. */
function changeRequestBox(app) {
  const r = app.change_request;
  if (app.status !== "changes_requested" || !r) return null;
  const open = new Date(r.due_at) >= new Date();
  return h(
    "section",
    { class: "alert alert-warning", "aria-labelledby": "richiesta-ufficio" },
    h("h2", { id: "richiesta-ufficio", class: "h5" }, t("L’ufficio chiede di modificare la domanda")),
    h("p", { class: "mb-2 change-request-message" }, r.message),
    open
      ? h("p", { class: "mb-0" }, t("Puoi modificarla e inviarla di nuovo entro il {date}, anche se il periodo di iscrizione è chiuso. Il codice utente e la posizione restano gli stessi.", { date: fmtDateTime(r.due_at) }))
      : h("p", { class: "mb-0" }, t("Il termine ({date}) è scaduto: la domanda torna all’ufficio così com’è.", { date: fmtDateTime(r.due_at) })),
  );
}

function statusLine(app) {
  return h("p", { class: "small" }, t("Stato:"), " ", badge(app.status), app.updated_at ? [" · ", t("ultima modifica {date}", { date: fmtDateTime(app.updated_at) })] : "");
}

/** A value that keeps its own direction in right-to-left text (codes, emails, phones). */
const ltr = (value) => (value === null || value === undefined || value === "" ? value : h("bdi", {}, value));

// ---------------------------------------------------------------- summary

/** Who meets the child, as the summary says it (`alone`: the authorization, as a whole sentence). */
function meetingRows(part, alone) {
  if (!part) return [];
  const exit = part.autonomous_exit === true ? alone : part.autonomous_exit === false ? t("No: lo accoglie un genitore o una persona delegata") : "—";
  const rows = [[t("Uscita autonoma"), exit]];
  if (part.autonomous_exit === false) {
    const names = (part.delegates || []).map((d) => t("{name} ({relationship}), {fiscal_code}", { name: `${d.first_name} ${d.last_name}`, relationship: d.relationship, fiscal_code: d.fiscal_code }));
    rows.push([t("Persone delegate"), names.length ? names.join("; ") : t("Nessuna: lo accoglie sempre un genitore")]);
  }
  return rows;
}

/** The service part of the summary: only what the window's service asks. */
function serviceRows(app, service, dayNames, diet) {
  const part = app.service || {};
  const offer = serviceInfo(service);
  const criteria = (part.criteria || []).map((c) => offer.criteria?.find((x) => x.code === c)?.label || c).join("; ");
  const extra = offer.criteria?.length ? [[t("Criteri dichiarati"), criteria || t("Nessuno")]] : [];
  if (service === "trasporto") {
    const tr = part.transport || {};
    const stop = offer.stops?.find((st) => st.id === tr.stop_id);
    const direction = { both: t("Andata e ritorno"), to_school: t("Solo andata"), from_school: t("Solo ritorno") }[tr.direction] || "—";
    return [[t("Fermata"), stop ? `${stop.name} – ${stop.route}` : tr.stop_id], [t("Viaggi"), direction], ...meetingRows(tr, t("Sì: scende da solo alla fermata del ritorno (art. 19-bis della legge 172/2017)")), ...extra];
  }
  if (service === "pre_post_scuola") {
    const slots = (part.slots || []).map((id) => offer.slots?.find((sl) => sl.id === id)?.name || id).join(", ");
    return [[t("Fasce orarie"), slots], [t("Giorni"), dayNames], ...meetingRows(part.pickup, t("Sì: esce da solo al termine del post scuola (art. 19-bis della legge 172/2017)")), ...extra];
  }
  return [[t("Dieta"), diet], [t("Note"), part.diet?.notes], [t("Giorni"), dayNames], ...extra];
}

function summarySections(app, { editable }) {
  const dl = (rows) => h("dl", {}, rows.map(([k, val]) => [h("dt", {}, k), h("dd", {}, val === null || val === undefined || val === "" ? "—" : val)]));
  const sec = (n, title, rows) =>
    h("section", { class: "summary-section" },
      h("div", { class: "d-flex justify-content-between align-items-baseline" },
        h("h2", { class: "h5" }, title),
        editable ? link(`domande/${app.id}/passo/${n}`, named(t("Modifica"), t("Modifica: {section}", { section: title })), "small") : null),
      dl(rows));
  const p = app.pupil;
  const g = app.guardian;
  const a = g.address || {};
  const win = windowById(app.window_id);
  const diet = diets().find(([k]) => k === app.service?.diet?.kind)?.[1] || "—";
  const week = days();
  const dayNames = (app.service?.days || []).map((d) => week.find(([k]) => k === d)?.[1] || d).join(", ");
  const relationship = relationships().find(([k]) => k && k === g.relationship)?.[1] || g.relationship;
  const yes = (b) => (b ? t("Sì") : t("No"));
  return [
    sec(1, t("Alunno"), [[t("Nome e cognome"), `${p.first_name} ${p.last_name}`], [t("Codice fiscale"), ltr(p.fiscal_code)], [t("Data di nascita"), fmtDate(p.birth_date)], [t("Scuola"), p.school], [t("Classe e sezione"), [p.grade, p.section].filter(Boolean).join(" ")]]),
    sec(2, t("Genitore"), [[t("Nome e cognome"), `${g.first_name} ${g.last_name}`], [t("Codice fiscale"), ltr(g.fiscal_code)], [t("Relazione"), relationship], [t("Email"), ltr(g.email)], [t("Telefono"), ltr(g.phone)], [t("Residenza"), [a.street, [a.postal_code, a.city].filter(Boolean).join(" "), a.province ? `(${a.province})` : ""].filter(Boolean).join(", ")]]),
    sec(3, t("Servizio"), [[t("Servizio"), windowLabel(win)], ...serviceRows(app, win?.service, dayNames, diet)]),
    sec(4, t("ISEE e allegati"), [[t("ISEE"), app.isee ? euro(app.isee.isee_cents) : t("Non presentato")], [t("Attestazione ISEE"), app.isee ? (app.isee.attachment_id ? t("Allegata") : t("Mancante")) : "—"], [t("Fascia tariffaria"), feeBand(app, win)]]),
    sec(5, t("Dichiarazioni e privacy"), [[t("Informativa privacy"), yes(app.declarations?.privacy)], [t("Regolamento"), yes(app.declarations?.regulation)], [t("Veridicità"), yes(app.declarations?.truthfulness)]]),
  ];
}

/** "B: 3,50 € a pasto" (per meal for school meals). */
function feeBand(app, win) {
  if (!app.fee_band) return "—";
  const band = { band: app.fee_band.code, fee: euro(app.fee_band.fee_cents) };
  return win?.service === "refezione" ? t("{band}: {fee} a pasto", band) : t("{band}: {fee}", band);
}

async function summary(id) {
  if (!session()) return needSession();
  const { app, version } = await loadApp(id);
  const win = windowById(app.window_id);
  const editable = canEdit(app, win);
  const again = app.status === "changes_requested";
  const notice = store.get("notice");
  store.del("notice");
  const msg = h("div", { "aria-live": "polite" });
  const missing = app.missing || [];
  const submit = h("button", { type: "button", class: "btn btn-primary", disabled: missing.length > 0 && (app.status === "draft" || again) }, again ? t("Invia di nuovo la domanda") : t("Invia iscrizione"));
  submit.addEventListener("click", () =>
    busy(submit, async () => {
      msg.replaceChildren();
      try {
        await api("POST", `/applications/${encodeURIComponent(id)}/submit`, { ifMatch: version });
        store.del(`form:${id}`);
        store.set("notice", again ? t("Domanda inviata di nuovo all’ufficio. Ti abbiamo inviato per email la lettera aggiornata.") : t("Iscrizione inviata. Ti abbiamo inviato per email la lettera con il codice utente."));
        go(`domande/${id}`);
      } catch (e) {
        if (e.sessionExpired) return failure(e);
        if (e.code === "version_conflict") {
          msg.replaceChildren(alert("warning", t("La domanda è stata modificata in un’altra scheda: ricontrolla il riepilogo aggiornato prima di inviarla."), " ", h("a", { href: location.pathname }, t("Ricarica il riepilogo"))));
        } else if (e.code === "duplicate_pupil") {
          // Another family's application holds the pupil: the office knows.
          msg.replaceChildren(alert("warning", e.message, " ", link("accedi", t("Accedi con codice fiscale e password"))));
        } else if (e.fields?.length) {
          msg.replaceChildren(errorSummary(e.message, e.fields, labelOf, (path) => goToStep(id, path, e.fields)));
        } else msg.replaceChildren(alert(e.status === 409 ? "warning" : "danger", e.message));
        msg.firstChild?.focus?.();
      }
    }),
  );
  const submitted = app.status !== "draft" && !again;
  show(
    main,
    t("Riepilogo della domanda"),
    notice ? alert("success", notice) : null,
    statusLine(app),
    changeRequestBox(app),
    app.status === "draft"
      ? alert("info", t("Controlla i dati. La domanda diventa un’iscrizione solo quando premi «Invia iscrizione»."))
      : again
        ? null
        : alert("info", t("La domanda è già stata inviata: se modifichi i dati, i documenti vengono aggiornati.")),
    missing.length
      ? alert("warning", h("p", { class: "mb-2" }, t("Per inviare la domanda mancano:")), h("ul", { class: "mb-0" }, missing.map((m) => h("li", {}, link(`domande/${id}/passo/${stepOf(m)}`, labelOf(m))))))
      : null,
    msg,
    phoneStep(app, () => {
      store.set("notice", t("Numero di cellulare verificato: ora puoi inviare la domanda."));
      route();
    }),
    summarySections(app, { editable }),
    h(
      "div",
      { class: "step-actions" },
      editable ? link(`domande/${id}/passo/1`, t("Modifica iscrizione"), "btn btn-outline-primary") : null,
      (app.status === "draft" && win?.status === "open") || (again && editable) ? submit : null,
      submitted ? link(`domande/${id}`, t("Stato iscrizione"), "btn btn-primary") : null,
      siblingOf(app),
    ),
  );
}

// ---------------------------------------------------------------- status

async function status(id) {
  if (!session()) return needSession();
  const { app } = await loadApp(id);
  const win = windowById(app.window_id);
  const notice = store.get("notice");
  store.del("notice");
  const docs = h("div", {});
  if (["submitted", "confirmed", "rejected", "changes_requested", "waitlisted"].includes(app.status)) {
    docs.append(h("h2", { class: "h4 mt-4" }, t("Documenti")));
    try {
      const { data } = await api("GET", `/applications/${encodeURIComponent(id)}/documents`);
      const names = {
        summary: () => t("Scarica Riepilogo della domanda (PDF)"),
        credentials: () => t("Scarica Lettera credenziali (PDF)"),
        information: () => t("Scarica Informativa sul servizio (PDF)"),
      };
      docs.append(
        h("ul", { class: "list-unstyled" },
          data.documents.map((d) => h("li", { class: "mb-2" }, h("a", { href: d.url, class: "btn btn-outline-primary btn-sm", target: "_blank", rel: "noopener" }, icon("file-pdf", "icon-sm me-1"), names[d.kind] ? names[d.kind]() : t("Scarica {document} (PDF)", { document: d.kind }))))),
        h("p", { class: "small" }, t("I collegamenti valgono 5 minuti: se scadono, ricarica la pagina.")),
        current() === "it" ? null : h("p", { class: "small" }, t("I documenti sono in italiano, la lingua degli atti ufficiali.")),
      );
    } catch (e) {
      if (e.sessionExpired) return failure(e);
      docs.append(alert("warning", e.message));
    }
  }
  const editable = canEdit(app, win);
  const decision = {
    confirmed: alert("success", t("L’iscrizione è stata confermata dall’ufficio.")),
    rejected: alert("danger", t("La domanda è stata respinta. Motivo: {reason}", { reason: app.decision_reason || "—" })),
    expired: alert("warning", t("Il periodo di iscrizione si è chiuso prima dell’invio: la bozza è scaduta e l’alunno non è iscritto.")),
    submitted: alert("info", t("Domanda inviata: l’ufficio la sta verificando.")),
    draft: alert("warning", t("Bozza: la domanda non è ancora un’iscrizione. Completala e premi «Invia iscrizione».")),
    withdrawn: alert("info", t("Hai rinunciato a questa domanda: il posto è stato liberato.")),
    changes_requested: changeRequestBox(app),
    waitlisted: alert("warning", t("La domanda è in lista d’attesa: i posti sono esauriti. Se un posto si libera e la domanda rientra nei posti, ti scriveremo.")),
  }[app.status];
  // "Rinuncia", asked twice: the place goes to the next family.
  const withdrawBox = h("div", { class: "mt-4" });
  if (["draft", "submitted", "confirmed", "waitlisted", "changes_requested"].includes(app.status)) {
    const ask = h("button", { type: "button", class: "btn btn-outline-danger" }, t("Rinuncia all’iscrizione"));
    ask.addEventListener("click", () => {
      const yes = h("button", { type: "button", class: "btn btn-danger me-2" }, t("Sì, rinuncio"));
      const no = h("button", { type: "button", class: "btn btn-outline-secondary" }, t("No, torna indietro"));
      const box = h("div", { class: "alert alert-warning", role: "alertdialog", "aria-labelledby": "rinuncia-title", tabindex: "-1" },
        h("p", { class: "fw-semibold", id: "rinuncia-title" }, t("Vuoi davvero rinunciare a questa domanda?")),
        h("p", {}, t("Il posto e l’alunno vengono liberati subito. Per iscriverlo di nuovo dovrai presentare un’altra domanda, se il periodo di iscrizione è ancora aperto.")),
        yes, no);
      no.addEventListener("click", () => {
        withdrawBox.replaceChildren(ask);
        ask.focus();
      });
      yes.addEventListener("click", () =>
        busy(yes, async () => {
          try {
            await api("POST", `/applications/${encodeURIComponent(id)}/withdraw`, { body: {} });
            store.del(`form:${id}`);
            store.set("notice", t("Rinuncia registrata: ti abbiamo inviato una conferma per email."));
            route();
          } catch (e) {
            if (e.sessionExpired) return failure(e);
            box.append(alert("danger", e.message));
          }
        }),
      );
      withdrawBox.replaceChildren(box);
      box.focus();
    });
    withdrawBox.append(ask);
  }
  show(
    main,
    t("Domanda di {name}", { name: `${app.pupil.first_name} ${app.pupil.last_name}`.trim() }),
    notice ? alert("success", notice) : null,
    h("p", { class: "text-muted" }, windowLabel(win)),
    h(
      "section",
      { class: "card-window status-box", "aria-labelledby": "stato-iscrizione" },
      h("h2", { id: "stato-iscrizione", class: "h4" }, t("Stato iscrizione")),
      h("p", {}, badge(app.status)),
      decision,
      h("dl", {},
        h("dt", {}, t("Primo salvataggio")), h("dd", {}, fmtDateTime(app.first_saved_at)),
        h("dt", {}, t("Ultima modifica")), h("dd", {}, fmtDateTime(app.updated_at)),
        h("dt", {}, t("Invio")), h("dd", {}, fmtDateTime(app.submitted_at)),
        h("dt", {}, t("Decisione")), h("dd", {}, fmtDateTime(app.decided_at)),
        app.user_code ? [h("dt", {}, t("Codice utente")), h("dd", { class: "user-code" }, ltr(app.user_code))] : null,
        app.rank ? [h("dt", {}, t("Posizione in graduatoria")), h("dd", {}, rankText(app.rank, win))] : null,
        app.fee_band ? [h("dt", {}, t("Fascia tariffaria")), h("dd", {}, feeBand(app, win))] : null),
    ),
    docs,
    h(
      "div",
      { class: "step-actions" },
      app.status === "draft" && editable ? link(`domande/${id}/passo/1`, t("Continua la compilazione"), "btn btn-primary") : null,
      app.status === "draft" ? link(`domande/${id}/riepilogo`, t("Vai al riepilogo"), "btn btn-outline-primary") : null,
      app.status === "submitted" && editable ? link(`domande/${id}/passo/1`, t("Modifica iscrizione"), "btn btn-outline-primary") : null,
      app.status === "changes_requested" && editable ? link(`domande/${id}/passo/1`, t("Modifica la domanda"), "btn btn-primary") : null,
      app.status !== "draft" ? link(`domande/${id}/riepilogo`, t("Vedi il riepilogo"), "btn btn-outline-primary") : null,
      link("domande", t("Le mie domande"), "btn btn-outline-secondary"),
      siblingOf(app),
    ),
    withdrawBox,
  );
}

/** "Aggiungi un altro figlio" from this application, once it names its guardian. */
function siblingOf(app) {
  if (app.status === "withdrawn" || !app.guardian?.fiscal_code || !app.guardian?.first_name) return null;
  return addSiblingLink(app);
}

/** The place in the ranking: "1 su 20 posti (3 punti): entro i posti disponibili". */
function rankText(rank, win) {
  const where = win?.capacity ? t("{position} su {capacity} posti", { position: rank.position, capacity: win.capacity }) : String(rank.position);
  const place = win?.ranking === "points" ? t("{place} ({points} punti)", { place: where, points: rank.points }) : where;
  return rank.within_capacity ? t("{place}: entro i posti disponibili", { place }) : t("{place}: oltre i posti disponibili", { place });
}

// ---------------------------------------------------------------- start

async function start() {
  focusRings();
  if (!tenant) {
    location.replace("/");
    return;
  }
  main = document.getElementById("contenuto");
  // A link with ?lang=… (the switcher without script, a shared address)
  // sets the family's language; the address then loses it.
  const q = new URLSearchParams(location.search);
  if (q.has("lang")) {
    if (isLanguage(q.get("lang"))) setLang(q.get("lang"));
    q.delete("lang");
    history.replaceState({}, "", location.pathname + (q.toString() ? `?${q}` : ""));
  }
  // The family's language before the first text is drawn.
  [config] = await Promise.all([portalConfig(), useLanguage()]);
  try {
    const [windows, offered] = await Promise.all([call(tenant, "GET", "/windows"), call(tenant, "GET", "/services").catch(() => ({ data: { services: [] } }))]);
    info = windows.data;
    services = offered.data.services || [];
    schools = offered.data.schools || [];
  } catch (e) {
    main.replaceChildren(
      h("h1", {}, e.status === 404 ? t("Comune non trovato") : t("Servizio non disponibile")),
      h("p", {}, e.status === 404 ? t("L’indirizzo non corrisponde a nessun Comune che usa questo servizio.") : e.message),
      h("a", { href: "/" }, t("Scegli il Comune")),
    );
    return;
  }
  await route();
}

start();
