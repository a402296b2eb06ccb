// The parent portal: /{tenant}/…, a single page on the public contract.
// Pages: home, access (email code, fiscal code and password, SPID/CIE),
// the form in five steps with "Salva bozza", the summary, the status with
// the documents, the renewals ("Anagrafiche"). Input being typed is kept
// in this tab's storage until the API has it, so an expired session, a
// closed window or a conflict never loses it.
import { call, upload, portalConfig, tenantFromPath, ApiError } from "./api.js";
import { fiscalCode, birthDateOf, rules, phoneE164 } from "./checks.js";
import {
  h, icon, frame, show, field, choices, checkbox, setFieldError, clearFieldErrors, errorSummary,
  busy, badge, alert, fmtDateTime, fmtDate, euro, fieldId, focusRings, DAYS, windowLabel,
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

/** Draw the frame (its menu depends on the session), then the page. */
async function route() {
  main = frame({ tenant, tenantName: info.tenant.name, area: "Servizi scolastici", homeHref: base, nav: nav() });
  await page();
}

async function page() {
  const rel = location.pathname.slice(base.length).replace(/\/$/, "");
  const q = new URLSearchParams(location.search);
  const parts = rel ? rel.split("/") : [];
  try {
    if (parts.length === 0) return await home();
    if (rel === "nuova-iscrizione") return await newEnrollment(q.get("finestra"));
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
    show(main, "Pagina non trovata", h("p", {}, "L’indirizzo non corrisponde a nessuna pagina del portale."), link("", "Torna alla pagina iniziale", "btn btn-primary"));
  } catch (e) {
    failure(e);
  }
}

/** A page for an error nobody handled closer. */
function failure(e) {
  if (e instanceof ApiError && e.sessionExpired) {
    return needSession("La sessione è scaduta: accedi di nuovo. I dati che stavi inserendo sono conservati su questo dispositivo.");
  }
  if (e instanceof ApiError && e.status === 404) {
    return show(main, "Domanda non trovata", alert("warning", e.message), link("domande", "Le mie domande", "btn btn-primary"));
  }
  const message = e instanceof ApiError ? e.message : "Si è verificato un errore inatteso: ricarica la pagina.";
  if (!(e instanceof ApiError)) console.error(e);
  return show(main, "Qualcosa non ha funzionato", alert("danger", message), link("", "Torna alla pagina iniziale", "btn btn-outline-primary"));
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
  const items = [link("", "Home", "nav-link"), link("domande", "Le mie domande", "nav-link"), link("anagrafiche", "Anagrafiche", "nav-link")];
  if (s) {
    items.push(
      h("button", {
        type: "button",
        class: "btn btn-link nav-link",
        onclick: () => {
          sessionStorage.clear();
          go("");
        },
      }, "Esci"),
    );
  } else items.push(link("accesso", "Accedi", "nav-link"));
  return items;
}

function openWindows() {
  return (info?.windows || []).filter((w) => w.status === "open");
}
const windowById = (id) => (info?.windows || []).find((w) => w.id === id);

function contacts() {
  const t = info?.tenant || {};
  return h(
    "p",
    { class: "small" },
    "Ufficio: ",
    t.contact_email ? h("a", { href: `mailto:${t.contact_email}` }, t.contact_email) : null,
    t.phone ? [" · tel. ", h("a", { href: `tel:${t.phone.replace(/\s/g, "")}` }, t.phone)] : null,
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
          h("h3", { class: "h5 mb-1" }, w.service_name, " ", w.school_year, " ", badge(w.status)),
          h("p", { class: "mb-2" }, w.status === "scheduled" ? `Apre il ${fmtDateTime(w.opens_at)}` : w.status === "open" ? `Domande fino al ${fmtDateTime(w.closes_at)}` : `Chiuso il ${fmtDateTime(w.closes_at)}`),
          w.status === "open" ? link(`nuova-iscrizione?finestra=${encodeURIComponent(w.id)}`, ["Nuova iscrizione", h("span", { class: "visually-hidden" }, ` a ${w.service_name} ${w.school_year}`)], "btn btn-primary btn-sm") : null,
        ),
      )
    : [h("p", {}, "Nessun periodo di iscrizione in programma.")];
  show(
    main,
    "Iscrizioni ai servizi scolastici",
    h("p", { class: "lead" }, `Servizi del ${info.tenant.name}: iscrivi un alunno, riprendi una domanda salvata, rinnova l’iscrizione dell’anno scorso.`),
    h("h2", { class: "h4 mt-4" }, "Periodi di iscrizione"),
    cards,
    h("h2", { class: "h4 mt-4" }, "Cosa vuoi fare?"),
    h(
      "div",
      { class: "d-grid gap-3 d-md-flex flex-md-wrap" },
      link("nuova-iscrizione", "Nuova iscrizione", "btn btn-primary"),
      link("accedi", "Riprendi una domanda", "btn btn-outline-primary"),
      link("spid", "Entra con SPID / CIE", "btn btn-outline-primary"),
      link("anagrafiche", "Rinnova iscrizione", "btn btn-outline-primary"),
    ),
    s ? h("p", { class: "mt-4" }, link("domande", "Vai alle tue domande")) : null,
    h("h2", { class: "h4 mt-5" }, "Contatti"),
    contacts(),
  );
}

// ---------------------------------------------------------------- access

function accessPage() {
  const notice = store.get("access-notice");
  store.del("access-notice");
  show(
    main,
    "Accedi",
    notice ? alert("warning", notice) : null,
    h("p", {}, "Scegli come accedere."),
    h(
      "ul",
      { class: "list-unstyled d-grid gap-3" },
      h("li", {}, link("spid", "Entra con SPID / CIE", "btn btn-primary")),
      h("li", {}, link("accedi", "Codice fiscale dell’alunno e password", "btn btn-outline-primary")),
      h("li", {}, link("nuova-iscrizione", "Nuova iscrizione con la tua email", "btn btn-outline-primary")),
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
    field({ name: kind.name, label: kind.label, type: kind.type, value, autocomplete: kind.autocomplete, required: true, hint: kind.hint }),
    h("button", { type: "submit", class: "btn btn-primary" }, kind.send),
  );
  const codeForm = h(
    "form",
    { method: "post", novalidate: true, hidden: true, class: "mt-5" },
    field({ name: "code", label: "Codice di sicurezza", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6, required: true, hint: kind.codeHint }),
    h("div", { class: "step-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Conferma"),
      h("button", { type: "button", class: "btn btn-outline-primary", "data-resend": "" }, "Invia di nuovo il codice")),
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
        else if (e.status === 429) msg.replaceChildren(alert("warning", e.retryAfter ? `${e.message} Riprova tra ${e.retryAfter} secondi.` : e.message));
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
      setFieldError(codeForm, "code", "Il codice è di 6 cifre.");
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

const EMAIL = {
  name: "email", label: "Email", type: "email", autocomplete: "email", path: "/email-codes", invalid: "invalid_email",
  hint: "Ti invieremo un codice di sicurezza di 6 cifre.", send: "Invia email", missing: "Scrivi il tuo indirizzo email.",
  codeHint: "Il codice è nell’email «Codice di sicurezza»: vale 10 minuti.", check: rules.email,
  sent: (to) => `Ti abbiamo inviato il codice a ${to}. Controlla anche la posta indesiderata.`,
};

const MOBILE = {
  name: "phone", label: "Numero di cellulare", type: "tel", autocomplete: "tel", path: "/phone-codes", invalid: "invalid_phone",
  hint: "Ti invieremo un SMS con un codice di 6 cifre. Per un numero estero scrivi il prefisso internazionale (ad esempio +44).",
  send: "Invia SMS", missing: "Scrivi il tuo numero di cellulare.", check: rules.phone,
  codeHint: "Il codice è nell’SMS che hai appena ricevuto: vale 10 minuti.",
  sent: (to) => `Ti abbiamo inviato un SMS con il codice al numero ${to}.`,
};

/** Email + 6-digit code; `onDone(opened)` gets the merged session. */
const emailVerification = ({ email = "", onDone }) => codeVerification(EMAIL, { value: email, onDone });

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
    h("h2", { class: "h5", id: "phone-step-title" }, "Verifica il numero di cellulare"),
    h("p", {}, `${info.tenant.name} chiede di verificare il cellulare del genitore prima dell’invio: è il numero indicato nella domanda. Se hai già verificato questo numero per questa domanda, puoi inviarla direttamente.`),
    codeVerification(MOBILE, { value: phone || "", onDone }),
  );
}

async function newEnrollment(windowId) {
  const open = openWindows();
  if (!open.length) {
    return show(main, "Nuova iscrizione", alert("info", "Non ci sono periodi di iscrizione aperti in questo momento."), link("", "Torna alla pagina iniziale", "btn btn-outline-primary"));
  }
  const chosen = windowById(windowId)?.status === "open" ? windowId : open[0].id;
  const pending = store.get("start") || {};
  const form = h(
    "form",
    { method: "post", novalidate: true },
    choices({ name: "who", legend: "Chi stai iscrivendo?", type: "radio", items: [["new", "Sono un nuovo iscritto"], ["renewal", "Sono già iscritto: rinnovo l’iscrizione dell’anno scorso"]], checked: ["new"] }),
    open.length > 1
      ? field({ name: "window_id", label: "Servizio e anno scolastico", type: "select", value: chosen, options: open.map((w) => [w.id, windowLabel(w)]), required: true })
      : h("p", {}, "Servizio: ", h("strong", {}, windowLabel(open[0]))),
    field({ name: "pupil.fiscal_code", label: "Codice fiscale dell’alunno", value: pending.fiscal_code || "", autocomplete: "off", maxlength: 16, required: true, attrs: { autocapitalize: "characters", spellcheck: "false" } }),
    checkbox({ name: "declarations.privacy", label: "Ho letto l’informativa sul trattamento dei dati personali (art. 13 GDPR)", checked: Boolean(pending.privacy) }),
    h("p", { class: "small" }, h("a", { href: "/privacy.html", target: "_blank", rel: "noopener" }, "Leggi l’informativa privacy (si apre in una nuova scheda)")),
    h("button", { type: "submit", class: "btn btn-primary" }, "Prosegui"),
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
      setFieldError(form, "pupil.fiscal_code", "Codice fiscale non valido: controlla i 16 caratteri.");
      bad = true;
    }
    if (!privacy) {
      setFieldError(form, "declarations.privacy", "Per proseguire devi prendere visione dell’informativa privacy.");
      bad = true;
    }
    if (bad) {
      form.querySelector("[aria-invalid=true]")?.focus();
      return;
    }
    const win = form.elements.window_id ? form.elements.window_id.value : open[0].id;
    store.set("start", { fiscal_code: code, privacy: true });
    const body = emptyBody(win, code);
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
      h("h2", { class: "h4" }, "Verifica la tua email"),
      h("p", {}, "Per salvare la domanda serve un indirizzo email verificato: lì riceverai la password per riprenderla e i documenti."),
      emailVerification({
        onDone: (opened) => {
          body.guardian.email = opened.session.email;
          begin();
        },
      }),
    );
    next.querySelector("input")?.focus();
  });
  show(main, "Nuova iscrizione", h("p", {}, "Prima di iniziare: il codice fiscale dell’alunno e la presa visione dell’informativa privacy."), form, next);
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
    field({ name: "fiscal_code", label: "Codice fiscale dell’alunno", autocomplete: "username", maxlength: 16, required: true, attrs: { autocapitalize: "characters", spellcheck: "false" } }),
    field({ name: "password", label: "Password", type: "password", autocomplete: "current-password", required: true, hint: "Quella ricevuta per email al primo salvataggio, o quella che hai scelto." }),
    h("button", { type: "submit", class: "btn btn-primary" }, "Accedi"),
  );
  const msg = h("div", { "aria-live": "polite" });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    msg.replaceChildren();
    const code = form.fiscal_code.value.trim().toUpperCase();
    const password = form.password.value;
    if (!code) setFieldError(form, "fiscal_code", "Scrivi il codice fiscale dell’alunno.");
    if (!password) setFieldError(form, "password", "Scrivi la password.");
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
        msg.replaceChildren(alert("danger", err.status === 429 && err.retryAfter ? `${err.message} Riprova tra ${Math.ceil(err.retryAfter / 60)} minuti.` : err.message));
        form.password.focus();
      }
    });
  });
  show(main, "Riprendi una domanda", h("p", {}, "Accedi con il codice fiscale dell’alunno e la password."), msg, form, h("p", { class: "mt-4" }, "Hai SPID o CIE? ", link("spid", "Entra con SPID / CIE")));
}

// Kept in memory only (never stored): the temporary password just used, so
// that the change form need not ask for it again.
let pendingLogin = null;

function passwordChange() {
  if (!session()) return needSession();
  const form = h(
    "form",
    { method: "post", novalidate: true },
    pendingLogin ? null : field({ name: "current", label: "Password attuale", type: "password", autocomplete: "current-password", required: true }),
    field({ name: "new", label: "Nuova password", type: "password", autocomplete: "new-password", required: true, hint: "Almeno 10 caratteri, con lettere e numeri, senza il codice fiscale." }),
    field({ name: "repeat", label: "Ripeti la nuova password", type: "password", autocomplete: "new-password", required: true }),
    h("button", { type: "submit", class: "btn btn-primary" }, "Salva la nuova password"),
  );
  const msg = h("div", { "aria-live": "polite" });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    msg.replaceChildren();
    const current = pendingLogin ? pendingLogin.password : form.current.value;
    const next = form.new.value;
    if (next.length < 10 || !/[A-Za-z]/.test(next) || !/\d/.test(next)) {
      setFieldError(form, "new", "La password deve avere almeno 10 caratteri, con lettere e numeri.");
      return form.new.focus();
    }
    if (next !== form.repeat.value) {
      setFieldError(form, "repeat", "Le due password non coincidono.");
      return form.repeat.focus();
    }
    await busy(form.querySelector("button"), async () => {
      try {
        await api("POST", "/password", { body: { current, new: next } });
        pendingLogin = null;
        // The session that changed the password goes on with it.
        const kept = session();
        if (kept?.session) store.set("session", { ...kept, session: { ...kept.session, must_change_password: false } });
        store.set("notice", "Password aggiornata.");
        afterLogin();
      } catch (err) {
        if (err.code === "weak_password") setFieldError(form, "new", err.message) || msg.replaceChildren(alert("danger", err.message));
        else msg.replaceChildren(alert("danger", err.message));
      }
    });
  });
  show(main, "Scegli una password personale", h("p", {}, "La password ricevuta per email è temporanea: scegline una tua per continuare."), msg, form);
}

// ---------------------------------------------------------------- SPID / CIE

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
const random = (n = 32) => b64url(crypto.getRandomValues(new Uint8Array(n)));

async function spidStart() {
  const spid = config.spid;
  if (!spid || !spid.authorize_url) {
    return show(main, "Entra con SPID / CIE", alert("info", "L’accesso con SPID o CIE non è ancora attivo per questo Comune: usa la tua email."), link("nuova-iscrizione", "Nuova iscrizione con la tua email", "btn btn-primary"));
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
  show(main, "Entra con SPID / CIE", h("p", {}, "Stai per essere indirizzato al servizio di autenticazione."), h("a", { href: url.toString(), class: "btn btn-primary" }, "Prosegui con SPID / CIE"));
  location.assign(url.toString());
}

async function spidReturn(q) {
  const pending = store.get("oidc");
  store.del("oidc");
  // The code and state leave the address bar at once.
  history.replaceState({}, "", `${base}spid/ritorno`);
  if (q.get("error")) {
    return show(main, "Accesso non completato", alert("warning", "Hai annullato l’accesso con SPID / CIE."), link("accesso", "Torna ad Accedi", "btn btn-primary"));
  }
  if (!pending || q.get("state") !== pending.state || !q.get("code")) {
    return show(main, "Accesso non completato", alert("danger", "La risposta del servizio di autenticazione non è valida: riprova."), link("spid", "Riprova", "btn btn-primary"));
  }
  show(main, "Accesso in corso", h("p", {}, "Verifica dell’identità…"));
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
    return show(main, "Accesso non completato", alert("danger", "Il servizio di autenticazione non ha risposto: riprova."), link("spid", "Riprova", "btn btn-primary"));
  }
  try {
    const { data } = await call(tenant, "POST", "/sessions", { body: { id_token: idToken, nonce: pending.nonce }, token: token() });
    keepSession(data);
    afterLogin("anagrafiche");
  } catch (e) {
    show(main, "Accesso non completato", alert("danger", e.message), link("spid", "Riprova", "btn btn-primary"));
  }
}

// ---------------------------------------------------------------- lists

async function myApplications() {
  if (!session()) return needSession();
  const { data } = await api("GET", "/applications");
  const notice = store.get("notice");
  store.del("notice");
  const apps = data.applications || [];
  show(
    main,
    "Le mie domande",
    notice ? alert("success", notice) : null,
    apps.length
      ? h(
          "ul",
          { class: "list-unstyled" },
          apps.map((a) =>
            h(
              "li",
              { class: "card-window" },
              h("h2", { class: "h5 mb-1" }, `${a.pupil.first_name} ${a.pupil.last_name}`.trim() || "Alunno", " ", badge(a.status)),
              h("p", { class: "mb-2" }, windowLabel(windowById(a.window_id)) || a.window_id, a.kind === "renewal" ? " · rinnovo" : " · nuova iscrizione"),
              link(`domande/${a.id}`, ["Apri la domanda", h("span", { class: "visually-hidden" }, ` di ${a.pupil.first_name} ${a.pupil.last_name}`)], "btn btn-primary btn-sm"),
            ),
          ),
        )
      : h("p", {}, "Non hai ancora domande."),
    h("div", { class: "d-grid gap-3 d-md-flex" }, link("nuova-iscrizione", "Nuova iscrizione", "btn btn-outline-primary"), link("anagrafiche", "Rinnova iscrizione", "btn btn-outline-primary")),
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
    const li = h("li", { class: "card-window" }, h("h2", { class: "h5 mb-1" }, name), h("p", { class: "mb-2" }, `${r.service_name} · codice utente ${r.user_code}`));
    if (r.blocked === "payment_arrears") {
      li.append(alert("warning", "Rinnovo bloccato: risultano pagamenti insoluti. Regolarizza il credito e contatta l’ufficio.", contacts()));
    } else if (!wins.length) {
      li.append(h("p", {}, "Nessun periodo di iscrizione aperto per questo servizio."));
    } else {
      const sel = wins.length > 1 ? field({ name: `window-${r.user_code}`, label: "Periodo di iscrizione", type: "select", options: wins.map((w) => [w.id, windowLabel(w)]) }) : null;
      const button = h("button", { type: "button", class: "btn btn-primary btn-sm" }, "Rinnova iscrizione", h("span", { class: "visually-hidden" }, ` di ${name}`));
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
              msg.replaceChildren(alert("info", "Per rinnovare serve anche un indirizzo email verificato."), emailVerification({ onDone: () => button.click() }));
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
    "Anagrafiche",
    h("p", {}, "Gli alunni iscritti l’anno scorso con te come genitore. Il rinnovo non è automatico: senza domanda l’alunno non è iscritto."),
    msg,
    list.length ? h("ul", { class: "list-unstyled" }, items) : h("p", {}, "Non risultano alunni da rinnovare per il tuo accesso. Se li hai iscritti con un’altra email, entra con SPID / CIE."),
  );
}

// ---------------------------------------------------------------- the form

const STEPS = ["Alunno", "Genitore", "Servizio", "ISEE e allegati", "Dichiarazioni e privacy"];
const LABELS = {
  "pupil.fiscal_code": "Codice fiscale dell’alunno",
  "pupil.first_name": "Nome dell’alunno",
  "pupil.last_name": "Cognome dell’alunno",
  "pupil.birth_date": "Data di nascita",
  "pupil.school": "Scuola",
  "pupil.grade": "Classe",
  "pupil.section": "Sezione",
  "guardian.fiscal_code": "Codice fiscale del genitore",
  "guardian.first_name": "Nome del genitore",
  "guardian.last_name": "Cognome del genitore",
  "guardian.relationship": "Relazione con l’alunno",
  "guardian.email": "Email",
  "guardian.phone": "Cellulare o telefono",
  "guardian.address.street": "Indirizzo",
  "guardian.address.city": "Comune di residenza",
  "guardian.address.postal_code": "CAP",
  "guardian.address.province": "Provincia",
  "service.diet.kind": "Dieta",
  "service.diet.notes": "Note sulla dieta",
  "service.days": "Giorni di frequenza",
  "service.slots": "Fasce orarie",
  "service.criteria": "Criteri per la graduatoria",
  "service.transport.stop_id": "Fermata",
  "service.transport.direction": "Viaggi",
  "service.transport.autonomous_exit": "Discesa alla fermata",
  "service.transport.delegates": "Persone delegate",
  "service.pickup.autonomous_exit": "Uscita dal post scuola",
  "service.pickup.delegates": "Persone delegate",
  "isee.isee_cents": "Valore ISEE",
  "isee.attachment_id": "Attestazione ISEE",
  "attachments.medical_certificate": "Certificato medico",
  "declarations.privacy": "Informativa privacy",
  "declarations.regulation": "Regolamento del servizio",
  "declarations.truthfulness": "Dichiarazione di veridicità",
  window_id: "Periodo di iscrizione",
};
const DELEGATE_FIELDS = { first_name: "nome", last_name: "cognome", fiscal_code: "codice fiscale", relationship: "relazione con l’alunno" };
function labelOf(path) {
  const d = path.match(/^service\.(transport|pickup)\.delegates\.(\d+)\.(\w+)$/);
  if (d) return `Persona delegata ${Number(d[2]) + 1}: ${DELEGATE_FIELDS[d[3]] || d[3]}`;
  return LABELS[path] || path;
}
function stepOf(path) {
  if (path.startsWith("pupil.")) return 1;
  if (path.startsWith("guardian.")) return 2;
  if (path.startsWith("service.") || path === "window_id") return 3;
  if (path.startsWith("isee") || path.startsWith("attachments.")) return 4;
  return 5;
}
const DIETS = [["none", "Nessuna dieta speciale"], ["medical", "Dieta sanitaria (serve il certificato medico)"], ["religious", "Dieta etico-religiosa"], ["vegetarian", "Dieta vegetariana"]];
const RELATIONSHIPS = [["", "Scegli"], ["madre", "Madre"], ["padre", "Padre"], ["tutore", "Tutore"]];
const GRADES = [["", "Scegli"], ["1", "1ª"], ["2", "2ª"], ["3", "3ª"], ["4", "4ª"], ["5", "5ª"]];

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
      for (const k of Object.keys(DELEGATE_FIELDS)) d[k] = String(d[k] || "").trim();
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
  step = Math.min(Math.max(step, 1), STEPS.length);
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
    { class: "form-steps", "aria-label": "Passi della domanda" },
    h("p", { class: "form-steps-index mb-1" }, `Passo ${step} di ${STEPS.length}`),
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
      field({ name: "pupil.fiscal_code", label: LABELS["pupil.fiscal_code"], value: v("pupil.fiscal_code"), maxlength: 16, required: true, autocomplete: "off", attrs: { autocapitalize: "characters", spellcheck: "false" } }),
      field({ name: "pupil.first_name", label: LABELS["pupil.first_name"], value: v("pupil.first_name"), required: true, autocomplete: "off" }),
      field({ name: "pupil.last_name", label: LABELS["pupil.last_name"], value: v("pupil.last_name"), required: true, autocomplete: "off" }),
      field({ name: "pupil.birth_date", label: LABELS["pupil.birth_date"], type: "date", value: v("pupil.birth_date"), required: true }),
      schools.length
        ? field({ name: "pupil.school", label: "Scuola frequentata nel prossimo anno", type: "select", value: v("pupil.school"), options: [["", "Scegli"], ...schools.map((n) => [n, n])], required: true })
        : field({ name: "pupil.school", label: "Scuola frequentata nel prossimo anno", value: v("pupil.school"), required: true, hint: "Ad esempio: Primaria G. Mazzini" }),
      field({ name: "pupil.grade", label: LABELS["pupil.grade"], type: "select", value: v("pupil.grade"), options: GRADES, required: true }),
      field({ name: "pupil.section", label: LABELS["pupil.section"], value: v("pupil.section"), hint: "Facoltativa, se già nota", maxlength: 3 }),
    ],
    2: () => [
      field({ name: "guardian.fiscal_code", label: LABELS["guardian.fiscal_code"], value: v("guardian.fiscal_code"), maxlength: 16, required: true, autocomplete: "off", attrs: { autocapitalize: "characters", spellcheck: "false", readonly: Boolean(session()?.session.guardian_fiscal_code) } }),
      field({ name: "guardian.first_name", label: LABELS["guardian.first_name"], value: v("guardian.first_name"), required: true, autocomplete: "given-name" }),
      field({ name: "guardian.last_name", label: LABELS["guardian.last_name"], value: v("guardian.last_name"), required: true, autocomplete: "family-name" }),
      field({ name: "guardian.relationship", label: LABELS["guardian.relationship"], type: "select", value: v("guardian.relationship"), options: RELATIONSHIPS, required: true }),
      field({ name: "guardian.email", label: LABELS["guardian.email"], type: "email", value: v("guardian.email"), required: true, autocomplete: "email" }),
      field({ name: "guardian.phone", label: LABELS["guardian.phone"], type: "tel", value: v("guardian.phone"), required: true, autocomplete: "tel", hint: "Ad esempio +39 333 1234567" }),
      field({ name: "guardian.address.street", label: "Indirizzo di residenza", value: v("guardian.address.street"), required: true, autocomplete: "street-address" }),
      field({ name: "guardian.address.city", label: LABELS["guardian.address.city"], value: v("guardian.address.city"), required: true, autocomplete: "address-level2" }),
      field({ name: "guardian.address.postal_code", label: LABELS["guardian.address.postal_code"], value: v("guardian.address.postal_code"), required: true, inputmode: "numeric", maxlength: 5, autocomplete: "postal-code" }),
      field({ name: "guardian.address.province", label: "Provincia (sigla)", value: v("guardian.address.province"), required: true, maxlength: 2, autocomplete: "address-level1" }),
    ],
    3: () => [
      h("p", { class: "mb-5" }, "Servizio: ", h("strong", {}, windowLabel(win) || body.window_id)),
      ...serviceQuestions(),
    ],
    4: () => {
      const has = body.isee !== null && body.isee !== undefined;
      const medical = getPath(body, "service.diet.kind") === "medical";
      return [
        choices({ name: "isee.present", legend: "Vuoi presentare l’ISEE per una tariffa agevolata?", type: "radio", items: [["no", "No, pago la tariffa massima"], ["yes", "Sì, presento l’ISEE"]], checked: [has ? "yes" : "no"] }),
        h(
          "div",
          { hidden: !has, "data-isee": "" },
          field({ name: "isee.isee_cents", label: "Valore ISEE in euro", value: has && body.isee.isee_cents != null ? String(body.isee.isee_cents / 100).replace(".", ",") : "", inputmode: "decimal", hint: "Ad esempio 12500,00" }),
          uploadField("isee.attachment_id", "isee", "Attestazione ISEE (PDF, JPEG o PNG, al massimo 5 MB)", has && body.isee.attachment_id),
        ),
        medical
          ? uploadField("attachments.medical_certificate", "medical_certificate", "Certificato medico per la dieta sanitaria (PDF, JPEG o PNG, al massimo 5 MB)", store.get(`medical:${id}`))
          : (win?.service || "refezione") === "refezione"
            ? h("p", {}, "Il certificato medico serve solo per la dieta sanitaria.")
            : null,
      ];
    },
    5: () => [
      checkbox({ name: "declarations.privacy", label: "Ho preso visione dell’informativa sul trattamento dei dati personali (art. 13 GDPR)", checked: Boolean(getPath(body, "declarations.privacy")) }),
      checkbox({ name: "declarations.regulation", label: "Accetto il regolamento comunale del servizio", checked: Boolean(getPath(body, "declarations.regulation")) }),
      checkbox({ name: "declarations.truthfulness", label: "Dichiaro che i dati sono veri, consapevole delle sanzioni dell’art. 76 del DPR 445/2000", checked: Boolean(getPath(body, "declarations.truthfulness")) }),
      h("p", { class: "small" }, h("a", { href: "/privacy.html", target: "_blank", rel: "noopener" }, "Informativa privacy (si apre in una nuova scheda)")),
    ],
  };

  /** The questions of the window's own service. */
  function serviceQuestions() {
    const kind = win?.service || "refezione";
    const offer = serviceInfo(kind);
    body.service = body.service || emptyService(kind);
    const criteria = offer.criteria?.length
      ? [choices({ name: "service.criteria", legend: "Criteri per la graduatoria (facoltativi)", hint: "Dichiarazione sostitutiva (DPR 445/2000): l’ufficio può verificarla. Ogni criterio vale i punti indicati.", items: offer.criteria.map((c) => [c.code, `${c.label} (${c.points} ${c.points === 1 ? "punto" : "punti"})`]), checked: body.service.criteria || [] })]
      : [];
    if (kind === "trasporto") {
      const t = (body.service.transport = body.service.transport || emptyService(kind).transport);
      return [
        field({ name: "service.transport.stop_id", label: LABELS["service.transport.stop_id"], type: "select", value: t.stop_id || "", options: [["", "Scegli la fermata"], ...offer.stops.map((st) => [st.id, `${st.name} – ${st.route}`])], required: true }),
        choices({ name: "service.transport.direction", legend: "Viaggi", type: "radio", items: [["both", "Andata e ritorno"], ["to_school", "Solo andata (verso la scuola)"], ["from_school", "Solo ritorno (dalla scuola)"]], checked: [t.direction || "both"], required: true }),
        ...meeting("service.transport", t, "Alla fermata del ritorno", "Autorizzo mio figlio o mia figlia a scendere da solo dallo scuolabus alla fermata del ritorno"),
        ...criteria,
      ];
    }
    if (kind === "pre_post_scuola") {
      const part = body.service;
      const post = (part.slots || []).includes("post");
      const pickup = (part.pickup = part.pickup || { autonomous_exit: null, delegates: [] });
      if (!post) delete part.pickup;
      return [
        choices({ name: "service.slots", legend: "Fasce orarie", items: offer.slots.map((sl) => [sl.id, sl.name]), checked: part.slots || [], required: true }),
        choices({ name: "service.days", legend: "Giorni di frequenza", items: DAYS, checked: part.days || [], required: true }),
        h("div", { hidden: !post, "data-pickup": "" }, ...meeting("service.pickup", pickup, "All’uscita dal post scuola", "Autorizzo mio figlio o mia figlia a uscire da solo al termine del post scuola")),
        ...criteria,
      ];
    }
    return [
      choices({ name: "service.diet.kind", legend: "Dieta", type: "radio", items: DIETS, checked: [v("service.diet.kind") || "none"], required: true }),
      field({ name: "service.diet.notes", label: "Note sulla dieta", type: "textarea", value: v("service.diet.notes"), hint: "Facoltative: ad esempio gli alimenti da escludere.", maxlength: 500 }),
      choices({ name: "service.days", legend: "Giorni di frequenza", items: DAYS, checked: body.service?.days || [], required: true }),
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
        h("p", { class: "fw-semibold mb-2" }, "Persone delegate"),
        h("p", { class: "form-text mt-0" }, "Adulti, oltre ai genitori, che possono accogliere l’alunno (al massimo 4). Se lo accoglie sempre un genitore, non aggiungere nessuno."),
        ...delegates.map((d, i) => {
          const at = (f) => `${prefix}.delegates.${i}.${f}`;
          const remove = h("button", { type: "button", class: "btn btn-outline-secondary btn-sm" }, `Rimuovi la persona delegata ${i + 1}`);
          remove.addEventListener("click", () => {
            part.delegates.splice(i, 1);
            keep();
            drawDelegates();
            list.querySelector("button")?.focus();
          });
          return h(
            "fieldset",
            { class: "delegate mb-4" },
            h("legend", { class: "fs-6 fw-semibold mb-4" }, `Persona delegata ${i + 1}`),
            field({ name: at("first_name"), label: "Nome", value: d.first_name || "", required: true, autocomplete: "off" }),
            field({ name: at("last_name"), label: "Cognome", value: d.last_name || "", required: true, autocomplete: "off" }),
            field({ name: at("fiscal_code"), label: "Codice fiscale", value: d.fiscal_code || "", maxlength: 16, required: true, autocomplete: "off", attrs: { autocapitalize: "characters", spellcheck: "false" } }),
            field({ name: at("relationship"), label: "Relazione con l’alunno", value: d.relationship || "", required: true, hint: "Ad esempio nonna, zio, vicina di casa", maxlength: 40 }),
            remove,
          );
        }),
      );
      if (delegates.length < 4) {
        const add = h("button", { type: "button", class: "btn btn-outline-primary btn-sm mb-4" }, "Aggiungi una persona delegata");
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
      items: [["false", "Lo accoglie un genitore o una persona delegata"], ["true", alone]],
      checked: part.autonomous_exit === null || part.autonomous_exit === undefined ? [] : [String(part.autonomous_exit)],
      hint: "L’uscita autonoma dei minori di 14 anni è regolata dall’art. 19-bis della legge 172/2017: con l’autorizzazione il personale è sollevato dalla vigilanza dopo quel momento.",
      required: true,
    });
    exit.addEventListener("change", (e) => {
      list.hidden = e.target.value !== "false";
    });
    return [exit, list];
  }

  function uploadField(name, kind, label, current) {
    const id2 = fieldId(name);
    const wrap = h(
      "div",
      { class: "mb-4", dataset: { field: name } },
      h("label", { for: id2, class: "d-block fw-semibold mb-2" }, label),
      h("input", { type: "file", id: id2, accept: "application/pdf,image/jpeg,image/png", class: "form-control", "aria-describedby": `${id2}-state ${id2}-err` }),
      h("p", { id: `${id2}-state`, class: "small mt-2", "aria-live": "polite" }, current ? "File caricato." : "Nessun file caricato."),
      h("div", { id: `${id2}-err`, class: "field-error", "aria-live": "polite" }),
    );
    wrap.querySelector("input").addEventListener("change", async (e) => {
      const file = e.target.files[0];
      if (!file) return;
      setFieldError(form, name, "");
      const state = wrap.querySelector(`#${id2}-state`);
      const type = file.type || (file.name.toLowerCase().endsWith(".pdf") ? "application/pdf" : "");
      if (!["application/pdf", "image/jpeg", "image/png"].includes(type)) return setFieldError(form, name, "Formato non ammesso: usa PDF, JPEG o PNG.");
      if (file.size > 5 * 1024 * 1024) return setFieldError(form, name, "Il file supera i 5 MB.");
      state.textContent = "Caricamento in corso…";
      try {
        // Uploads need the application: save the draft first.
        if (!app) await save({ quiet: true });
        const { data } = await api("POST", `/applications/${encodeURIComponent(app.id)}/attachments`, { body: { kind, filename: file.name, content_type: type, size: file.size } });
        await upload(data.upload_url, file, type);
        if (kind === "isee") {
          body.isee = { ...(body.isee || {}), attachment_id: data.attachment_id };
        } else store.set(`medical:${app.id}`, data.attachment_id);
        keep();
        state.textContent = `File caricato: ${file.name}.`;
        if (kind === "isee") await save({ quiet: true });
      } catch (err) {
        state.textContent = "Nessun file caricato.";
        if (err.fields?.length) setFieldError(form, name, err.fields[0].message);
        else setFieldError(form, name, err.message);
      }
    });
    return wrap;
  }

  // Every save needs the privacy notice taken in (a renewal starts without it).
  if (step !== 5 && !getPath(body, "declarations.privacy")) {
    form.append(
      checkbox({ name: "declarations.privacy", label: "Ho preso visione dell’informativa sul trattamento dei dati personali (art. 13 GDPR)", checked: false }),
      h("p", { class: "small" }, h("a", { href: "/privacy.html", target: "_blank", rel: "noopener" }, "Informativa privacy (si apre in una nuova scheda)")),
    );
  }
  form.append(...sections[step]());
  const msg = h("div", { "aria-live": "polite", class: "mt-3" });
  const saveButton = h("button", { type: "button", class: "btn btn-outline-primary" }, "Salva bozza");
  const prev = step > 1 ? h("a", { href: `${base}domande/${id}/passo/${step - 1}`, class: "btn btn-outline-secondary" }, "Indietro") : null;
  const nextButton = h("button", { type: "submit", class: "btn btn-primary" }, step < STEPS.length ? "Avanti" : "Vai al riepilogo");
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
      const raw = el.value.trim().replace(/\./g, "").replace(",", ".");
      body.isee = { ...(body.isee || {}), isee_cents: raw === "" ? null : Number.isFinite(Number(raw)) ? Math.round(Number(raw) * 100) : NaN };
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
      return setFieldError(form, el.name, "Scrivi il valore ISEE in euro, ad esempio 12500,00.");
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
        msg.replaceChildren(alert("success", "Bozza salvata. ", mailed ? "Ti abbiamo inviato per email una password temporanea: con il codice fiscale dell’alunno ti servirà per riprendere la domanda. " : "", "Attenzione: la bozza non è un’iscrizione, ricorda di inviare la domanda."));
      }
      return app;
    }
    const { data, etag } = await api("PUT", `/applications/${encodeURIComponent(app.id)}`, { body: payload, ifMatch: version });
    app = data;
    version = etag ?? data.version;
    body = bodyOf(app);
    keep();
    if (!quiet) msg.replaceChildren(alert("success", `Bozza salvata alle ${fmtDateTime(app.updated_at).split(", ")[1] || ""}. La bozza non è un’iscrizione: ricorda di inviare la domanda.`));
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
        if (then && !app && e.code === "incomplete" && step < STEPS.length) return then();
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
      const reload = h("button", { type: "button", class: "btn btn-outline-primary btn-sm me-2" }, "Carica la versione salvata");
      const overwrite = h("button", { type: "button", class: "btn btn-primary btn-sm" }, "Salva i miei dati sopra l’altra versione");
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
      msg.replaceChildren(alert("warning", h("p", {}, "La domanda è stata modificata in un’altra scheda o da un altro dispositivo. I dati che vedi qui non sono andati persi: scegli quale versione tenere."), reload, overwrite));
      return msg.querySelector(".alert").focus?.();
    }
    if (e.code === "duplicate_pupil") {
      return msg.replaceChildren(alert("warning", e.message, " ", link("accedi", "Accedi con codice fiscale e password")));
    }
    if (e.code === "window_closed") {
      return msg.replaceChildren(alert("warning", e.message, " I dati inseriti restano su questo dispositivo finché non chiudi la scheda."));
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
    if (problems.length) return showErrors("Controlla i campi indicati.", problems);
    trySave(nextButton, () => {
      const at = app ? app.id : id;
      go(step < STEPS.length ? `domande/${at}/passo/${step + 1}` : `domande/${at}/riepilogo`);
    });
  });

  show(
    main,
    app && app.kind === "renewal" ? "Rinnovo dell’iscrizione" : "Domanda d’iscrizione",
    h("p", { class: "text-muted mb-2" }, windowLabel(win)),
    app ? statusLine(app) : null,
    app ? changeRequestBox(app) : null,
    steppers,
    h("h2", { class: "h4 mt-4" }, `${step}. ${STEPS[step - 1]}`),
    h("p", { class: "small" }, "I campi con * sono necessari per inviare la domanda; puoi salvare la bozza in qualsiasi momento."),
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
    h("h2", { id: "richiesta-ufficio", class: "h5" }, "L’ufficio chiede di modificare la domanda"),
    h("p", { class: "mb-2 change-request-message" }, r.message),
    open
      ? h("p", { class: "mb-0" }, `Puoi modificarla e inviarla di nuovo entro il ${fmtDateTime(r.due_at)}, anche se il periodo di iscrizione è chiuso. Il codice utente e la posizione restano gli stessi.`)
      : h("p", { class: "mb-0" }, `Il termine (${fmtDateTime(r.due_at)}) è scaduto: la domanda torna all’ufficio così com’è.`),
  );
}

function statusLine(app) {
  return h("p", { class: "small" }, "Stato: ", badge(app.status), app.updated_at ? ` · ultima modifica ${fmtDateTime(app.updated_at)}` : "");
}

// ---------------------------------------------------------------- summary

/** Who meets the child, as the summary says it. */
function meetingRows(part, alone) {
  if (!part) return [];
  const exit = part.autonomous_exit === true ? `Sì: ${alone} (art. 19-bis della legge 172/2017)` : part.autonomous_exit === false ? "No: lo accoglie un genitore o una persona delegata" : "—";
  const rows = [["Uscita autonoma", exit]];
  if (part.autonomous_exit === false) {
    const names = (part.delegates || []).map((d) => `${d.first_name} ${d.last_name} (${d.relationship}), ${d.fiscal_code}`);
    rows.push(["Persone delegate", names.length ? names.join("; ") : "Nessuna: lo accoglie sempre un genitore"]);
  }
  return rows;
}

/** The service part of the summary: only what the window's service asks. */
function serviceRows(app, service, days, diet) {
  const part = app.service || {};
  const offer = serviceInfo(service);
  const criteria = (part.criteria || []).map((c) => offer.criteria?.find((x) => x.code === c)?.label || c).join("; ");
  const extra = offer.criteria?.length ? [["Criteri dichiarati", criteria || "Nessuno"]] : [];
  if (service === "trasporto") {
    const t = part.transport || {};
    const stop = offer.stops?.find((st) => st.id === t.stop_id);
    const direction = { both: "Andata e ritorno", to_school: "Solo andata", from_school: "Solo ritorno" }[t.direction] || "—";
    return [["Fermata", stop ? `${stop.name} – ${stop.route}` : t.stop_id], ["Viaggi", direction], ...meetingRows(t, "scende da solo alla fermata del ritorno"), ...extra];
  }
  if (service === "pre_post_scuola") {
    const slots = (part.slots || []).map((id) => offer.slots?.find((sl) => sl.id === id)?.name || id).join(", ");
    return [["Fasce orarie", slots], ["Giorni", days], ...meetingRows(part.pickup, "esce da solo al termine del post scuola"), ...extra];
  }
  return [["Dieta", diet], ["Note", part.diet?.notes], ["Giorni", days], ...extra];
}

function summarySections(app, { editable }) {
  const dl = (rows) => h("dl", {}, rows.map(([k, val]) => [h("dt", {}, k), h("dd", {}, val === null || val === undefined || val === "" ? "—" : val)]));
  const sec = (n, title, rows) =>
    h("section", { class: "summary-section" },
      h("div", { class: "d-flex justify-content-between align-items-baseline" },
        h("h2", { class: "h5" }, title),
        editable ? link(`domande/${app.id}/passo/${n}`, ["Modifica", h("span", { class: "visually-hidden" }, ` ${title}`)], "small") : null),
      dl(rows));
  const p = app.pupil;
  const g = app.guardian;
  const a = g.address || {};
  const win = windowById(app.window_id);
  const diet = DIETS.find(([k]) => k === app.service?.diet?.kind)?.[1] || "—";
  const days = (app.service?.days || []).map((d) => DAYS.find(([k]) => k === d)?.[1] || d).join(", ");
  const yes = (b) => (b ? "Sì" : "No");
  return [
    sec(1, "Alunno", [["Nome e cognome", `${p.first_name} ${p.last_name}`], ["Codice fiscale", p.fiscal_code], ["Data di nascita", fmtDate(p.birth_date)], ["Scuola", p.school], ["Classe e sezione", [p.grade, p.section].filter(Boolean).join(" ")]]),
    sec(2, "Genitore", [["Nome e cognome", `${g.first_name} ${g.last_name}`], ["Codice fiscale", g.fiscal_code], ["Relazione", g.relationship], ["Email", g.email], ["Telefono", g.phone], ["Residenza", [a.street, [a.postal_code, a.city].filter(Boolean).join(" "), a.province ? `(${a.province})` : ""].filter(Boolean).join(", ")]]),
    sec(3, "Servizio", [["Servizio", windowLabel(win)], ...serviceRows(app, win?.service, days, diet)]),
    sec(4, "ISEE e allegati", [["ISEE", app.isee ? euro(app.isee.isee_cents) : "Non presentato"], ["Attestazione ISEE", app.isee ? (app.isee.attachment_id ? "Allegata" : "Mancante") : "—"], ["Fascia tariffaria", app.fee_band ? `${app.fee_band.code}: ${euro(app.fee_band.fee_cents)}${win?.service === "refezione" ? " a pasto" : ""}` : "—"]]),
    sec(5, "Dichiarazioni e privacy", [["Informativa privacy", yes(app.declarations?.privacy)], ["Regolamento", yes(app.declarations?.regulation)], ["Veridicità", yes(app.declarations?.truthfulness)]]),
  ];
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
  const submit = h("button", { type: "button", class: "btn btn-primary", disabled: missing.length > 0 && (app.status === "draft" || again) }, again ? "Invia di nuovo la domanda" : "Invia iscrizione");
  submit.addEventListener("click", () =>
    busy(submit, async () => {
      msg.replaceChildren();
      try {
        await api("POST", `/applications/${encodeURIComponent(id)}/submit`, { ifMatch: version });
        store.del(`form:${id}`);
        store.set("notice", again ? "Domanda inviata di nuovo all’ufficio. Ti abbiamo inviato per email la lettera aggiornata." : "Iscrizione inviata. Ti abbiamo inviato per email la lettera con il codice utente.");
        go(`domande/${id}`);
      } catch (e) {
        if (e.sessionExpired) return failure(e);
        if (e.code === "version_conflict") {
          msg.replaceChildren(alert("warning", "La domanda è stata modificata in un’altra scheda: ricontrolla il riepilogo aggiornato prima di inviarla. ", h("a", { href: location.pathname }, "Ricarica il riepilogo")));
        } else if (e.code === "duplicate_pupil") {
          // Another family's application holds the pupil: the office knows.
          msg.replaceChildren(alert("warning", e.message, " ", link("accedi", "Accedi con codice fiscale e password")));
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
    "Riepilogo della domanda",
    notice ? alert("success", notice) : null,
    statusLine(app),
    changeRequestBox(app),
    app.status === "draft"
      ? alert("info", "Controlla i dati. La domanda diventa un’iscrizione solo quando premi «Invia iscrizione».")
      : again
        ? null
        : alert("info", "La domanda è già stata inviata: se modifichi i dati, i documenti vengono aggiornati."),
    missing.length
      ? alert("warning", h("p", { class: "mb-2" }, "Per inviare la domanda mancano:"), h("ul", { class: "mb-0" }, missing.map((m) => h("li", {}, link(`domande/${id}/passo/${stepOf(m)}`, labelOf(m))))))
      : null,
    msg,
    phoneStep(app, () => {
      store.set("notice", "Numero di cellulare verificato: ora puoi inviare la domanda.");
      route();
    }),
    summarySections(app, { editable }),
    h(
      "div",
      { class: "step-actions" },
      editable ? link(`domande/${id}/passo/1`, "Modifica iscrizione", "btn btn-outline-primary") : null,
      (app.status === "draft" && win?.status === "open") || (again && editable) ? submit : null,
      submitted ? link(`domande/${id}`, "Stato iscrizione", "btn btn-primary") : null,
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
    docs.append(h("h2", { class: "h4 mt-4" }, "Documenti"));
    try {
      const { data } = await api("GET", `/applications/${encodeURIComponent(id)}/documents`);
      const names = { summary: "Riepilogo della domanda", credentials: "Lettera credenziali", information: "Informativa sul servizio" };
      docs.append(
        h("ul", { class: "list-unstyled" },
          data.documents.map((d) => h("li", { class: "mb-2" }, h("a", { href: d.url, class: "btn btn-outline-primary btn-sm", target: "_blank", rel: "noopener" }, icon("file-pdf", "icon-sm me-1"), `Scarica ${names[d.kind] || d.kind} (PDF)`)))),
        h("p", { class: "small" }, "I collegamenti valgono 5 minuti: se scadono, ricarica la pagina."),
      );
    } catch (e) {
      if (e.sessionExpired) return failure(e);
      docs.append(alert("warning", e.message));
    }
  }
  const editable = canEdit(app, win);
  const decision = {
    confirmed: alert("success", "L’iscrizione è stata confermata dall’ufficio."),
    rejected: alert("danger", "La domanda è stata respinta. Motivo: ", app.decision_reason || "—"),
    expired: alert("warning", "Il periodo di iscrizione si è chiuso prima dell’invio: la bozza è scaduta e l’alunno non è iscritto."),
    submitted: alert("info", "Domanda inviata: l’ufficio la sta verificando."),
    draft: alert("warning", "Bozza: la domanda non è ancora un’iscrizione. Completala e premi «Invia iscrizione»."),
    withdrawn: alert("info", "Hai rinunciato a questa domanda: il posto è stato liberato."),
    changes_requested: changeRequestBox(app),
    waitlisted: alert("warning", "La domanda è in lista d’attesa: i posti sono esauriti. Se un posto si libera e la domanda rientra nei posti, ti scriveremo."),
  }[app.status];
  // "Rinuncia", asked twice: the place goes to the next family.
  const withdrawBox = h("div", { class: "mt-4" });
  if (["draft", "submitted", "confirmed", "waitlisted", "changes_requested"].includes(app.status)) {
    const ask = h("button", { type: "button", class: "btn btn-outline-danger" }, "Rinuncia all’iscrizione");
    ask.addEventListener("click", () => {
      const yes = h("button", { type: "button", class: "btn btn-danger me-2" }, "Sì, rinuncio");
      const no = h("button", { type: "button", class: "btn btn-outline-secondary" }, "No, torna indietro");
      const box = h("div", { class: "alert alert-warning", role: "alertdialog", "aria-labelledby": "rinuncia-title", tabindex: "-1" },
        h("p", { class: "fw-semibold", id: "rinuncia-title" }, "Vuoi davvero rinunciare a questa domanda?"),
        h("p", {}, "Il posto e l’alunno vengono liberati subito. Per iscriverlo di nuovo dovrai presentare un’altra domanda, se il periodo di iscrizione è ancora aperto."),
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
            store.set("notice", "Rinuncia registrata: ti abbiamo inviato una conferma per email.");
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
    `Domanda di ${app.pupil.first_name} ${app.pupil.last_name}`.trim(),
    notice ? alert("success", notice) : null,
    h("p", { class: "text-muted" }, windowLabel(win)),
    h(
      "section",
      { class: "card-window status-box", "aria-labelledby": "stato-iscrizione" },
      h("h2", { id: "stato-iscrizione", class: "h4" }, "Stato iscrizione"),
      h("p", {}, badge(app.status)),
      decision,
      h("dl", {},
        h("dt", {}, "Primo salvataggio"), h("dd", {}, fmtDateTime(app.first_saved_at)),
        h("dt", {}, "Ultima modifica"), h("dd", {}, fmtDateTime(app.updated_at)),
        h("dt", {}, "Invio"), h("dd", {}, fmtDateTime(app.submitted_at)),
        h("dt", {}, "Decisione"), h("dd", {}, fmtDateTime(app.decided_at)),
        app.user_code ? [h("dt", {}, "Codice utente"), h("dd", {}, app.user_code)] : null,
        app.rank ? [h("dt", {}, "Posizione in graduatoria"), h("dd", {}, `${app.rank.position}${win?.capacity ? ` su ${win.capacity} posti` : ""}${win?.ranking === "points" ? ` (${app.rank.points} punti)` : ""}: ${app.rank.within_capacity ? "entro i posti disponibili" : "oltre i posti disponibili"}`)] : null,
        app.fee_band ? [h("dt", {}, "Fascia tariffaria"), h("dd", {}, `${app.fee_band.code}: ${euro(app.fee_band.fee_cents)}${win?.service === "refezione" ? " a pasto" : ""}`)] : null),
    ),
    docs,
    h(
      "div",
      { class: "step-actions" },
      app.status === "draft" && editable ? link(`domande/${id}/passo/1`, "Continua la compilazione", "btn btn-primary") : null,
      app.status === "draft" ? link(`domande/${id}/riepilogo`, "Vai al riepilogo", "btn btn-outline-primary") : null,
      app.status === "submitted" && editable ? link(`domande/${id}/passo/1`, "Modifica iscrizione", "btn btn-outline-primary") : null,
      app.status === "changes_requested" && editable ? link(`domande/${id}/passo/1`, "Modifica la domanda", "btn btn-primary") : null,
      app.status !== "draft" ? link(`domande/${id}/riepilogo`, "Vedi il riepilogo", "btn btn-outline-primary") : null,
      link("domande", "Le mie domande", "btn btn-outline-secondary"),
    ),
    withdrawBox,
  );
}

// ---------------------------------------------------------------- start

async function start() {
  focusRings();
  if (!tenant) {
    location.replace("/");
    return;
  }
  main = document.getElementById("contenuto");
  config = await portalConfig();
  try {
    const [windows, offered] = await Promise.all([call(tenant, "GET", "/windows"), call(tenant, "GET", "/services").catch(() => ({ data: { services: [] } }))]);
    info = windows.data;
    services = offered.data.services || [];
    schools = offered.data.schools || [];
  } catch (e) {
    main.replaceChildren(
      h("h1", {}, e.status === 404 ? "Comune non trovato" : "Servizio non disponibile"),
      h("p", {}, e.status === 404 ? "L’indirizzo non corrisponde a nessun Comune che usa questo servizio." : e.message),
      h("a", { href: "/" }, "Scegli il Comune"),
    );
    return;
  }
  await route();
}

start();
