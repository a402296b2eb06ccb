// The staff back-office: a single-page app under /{tenant}/staff/ on the
// public contract (../shared/API.md, "Staff" and "Enrollment windows"):
// sign-in (the local stand-in, or Amazon Cognito's hosted UI with the
// authorization-code flow and PKCE), the list of applications with filters
// and paging, one application with its history and the confirm / reject
// decision, the enrollment windows (create, extend, close, roster CSV) and
// the import of last year's roster. Routing uses the History API; no
// personal data ever goes into a URL (only window ids and statuses).
import {
  h,
  frame,
  show,
  field,
  setFieldError,
  clearFieldErrors,
  errorSummary,
  busy,
  badge,
  fmtDateTime,
  fmtDate,
  euro,
  SERVICES,
  STATUS,
  alert,
  DAYS,
  windowLabel,
  focusRings,
} from "./ui.js";
import { call, ApiError, portalConfig, tenantFromPath } from "./api.js";

const tenant = tenantFromPath();
const base = `/${tenant}/staff/`;
const TOKEN_KEY = `staff-token:${tenant}`;
const PKCE_KEY = `staff-pkce:${tenant}`;
const AREA = "Area riservata al personale";

const ROSTER_HEADER =
  "user_code,service,pupil_fiscal_code,pupil_first_name,pupil_last_name,pupil_birth_date,school,grade,section,guardian_fiscal_code,guardian_first_name,guardian_last_name,guardian_email,guardian_phone,balance_cents";

const state = {
  config: {},
  tenantInfo: null,
  windows: [],
  services: [],
  main: null,
  framedSignedIn: null,
  lastList: `${base}domande`,
  seq: 0,
};

// ---------------------------------------------------------------------------
// Italian labels

const DIETS = { none: "Nessuna", medical: "Sanitaria", religious: "Etico-religiosa", vegetarian: "Vegetariana" };
const DAY_NAMES = Object.fromEntries(DAYS);
const RELATIONSHIPS = { madre: "Madre", padre: "Padre", tutore: "Tutore" };
const KINDS = { new: "Nuova iscrizione", renewal: "Rinnovo" };
const STATUS_FILTER = [
  ["", "Tutti"],
  ["submitted", "Inviata"],
  ["confirmed", "Confermata"],
  ["rejected", "Respinta"],
  ["draft", "Bozza"],
  ["expired", "Scaduta"],
  ["withdrawn", "Ritirata"],
  ["waitlisted", "In lista d'attesa"],
  ["changes_requested", "Da integrare"],
];
/** The statuses of a window's counts, in the order the office reads them. */
const COUNT_ORDER = ["submitted", "changes_requested", "waitlisted", "confirmed", "rejected", "withdrawn", "draft", "expired"];
const WINDOW_FIELDS = { service: "Servizio", school_year: "Anno scolastico", opens_at: "Apertura", closes_at: "Chiusura", capacity: "Posti disponibili", ranking: "Graduatoria" };
const ROSTER_COLUMNS = {
  user_code: "Codice utente",
  service: "Servizio",
  pupil_fiscal_code: "Codice fiscale dell'alunno",
  pupil_first_name: "Nome dell'alunno",
  pupil_last_name: "Cognome dell'alunno",
  pupil_birth_date: "Data di nascita dell'alunno",
  school: "Scuola",
  grade: "Classe",
  section: "Sezione",
  guardian_fiscal_code: "Codice fiscale del genitore",
  guardian_first_name: "Nome del genitore",
  guardian_last_name: "Cognome del genitore",
  guardian_email: "Email del genitore",
  guardian_phone: "Telefono del genitore",
  balance_cents: "Saldo (centesimi)",
};
const ROSTER_CODES = {
  invalid_user_code: "Il codice utente deve avere 8 cifre.",
  invalid_service: "Servizio sconosciuto: usa refezione, pre_post_scuola o trasporto.",
  service_not_offered: "Il Comune non offre questo servizio.",
  invalid_fiscal_code: "Codice fiscale non valido.",
  invalid_name: "Nome o cognome non valido.",
  invalid_birth_date: "Data di nascita non valida: usa il formato AAAA-MM-GG.",
  birth_date_mismatch: "La data di nascita non corrisponde al codice fiscale.",
  invalid_school: "Scuola mancante o non valida.",
  invalid_grade: "Classe non valida.",
  invalid_section: "Sezione non valida.",
  invalid_email: "Indirizzo email non valido.",
  invalid_phone: "Numero di telefono non valido.",
  invalid_balance: "Saldo non valido: indica i centesimi di euro con un numero intero.",
  wrong_column_count: "Il numero di colonne è diverso da quello dell'intestazione.",
  unreadable_line: "Riga illeggibile (ad esempio virgolette non chiuse).",
  duplicate_user_code: "Codice utente ripetuto nel file per un altro alunno o servizio.",
  user_code_taken: "Codice utente già assegnato a un altro alunno.",
};

function statusLabel(s) {
  return s ? (STATUS[s] ? STATUS[s][0] : s) : "—";
}
function windowById(id) {
  return state.windows.find((w) => w.id === id) || null;
}
function personName(p) {
  if (!p) return "";
  return [p.first_name, p.last_name].filter(Boolean).join(" ");
}
function blank(v) {
  return v === null || v === undefined || v === "";
}

// ---------------------------------------------------------------------------
// Token, API calls and routing

function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}
function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage unavailable: the token lives only until the next page load */
  }
}

/**
 * Whether a stored token may still work: staff tokens are JWTs, so an
 * unreadable one or one past its `exp` goes back to the sign-in at once
 * (pages that call no staff endpoint would not notice otherwise). The API
 * checks the signature; this is only the early, friendly answer.
 */
function tokenLooksValid(token) {
  const parts = String(token).split(".");
  if (parts.length !== 3) return false;
  try {
    const json = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(parts[1].length / 4) * 4, "="));
    const claims = JSON.parse(json);
    return typeof claims.exp !== "number" || claims.exp * 1000 > Date.now();
  } catch {
    return false;
  }
}

/** Thrown after the page was taken over (sign-in again): callers stop. */
class Handled extends Error {}

/** A staff call: the token added, 401 and 403 turned into the sign-in page. */
async function api(method, path, opts = {}) {
  try {
    return await call(tenant, method, path, { ...opts, token: getToken() });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      setToken(null);
      renderSignIn(alert("warning", "La sessione è scaduta: accedi di nuovo."));
      throw new Handled();
    }
    if (e instanceof ApiError && e.status === 403) {
      setToken(null);
      renderSignIn(alert("danger", "Il tuo account non ha il ruolo di operatore per questo Comune."));
      throw new Handled();
    }
    throw e;
  }
}

function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  route();
}

/** Same-origin links under /{tenant}/staff/ stay in the app. */
function onLinkClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target instanceof Element ? e.target.closest("a[href]") : null;
  if (!a || a.hasAttribute("download") || (a.target && a.target !== "_self")) return;
  const href = a.getAttribute("href");
  if (!href || href.startsWith("#")) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(base)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
}

async function route() {
  state.seq += 1;
  const my = state.seq;
  const alive = () => my === state.seq;
  const rest = location.pathname.startsWith(base) ? location.pathname.slice(base.length).replace(/\/+$/, "") : "";
  try {
    if (rest === "accesso") return await signInCallback(alive);
    if (!getToken()) return renderSignIn();
    if (!tokenLooksValid(getToken())) {
      setToken(null);
      return renderSignIn(alert("warning", "La sessione è scaduta: accedi di nuovo."));
    }
    if (rest === "") return navigate(`${base}domande`, { replace: true });
    if (rest === "domande") return await viewList(alive);
    const detail = rest.match(/^domande\/([^/]+)$/);
    if (detail) return await viewDetail(alive, decodeURIComponent(detail[1]));
    if (rest === "periodi") return await viewWindows(alive);
    if (rest === "anagrafiche") return viewImport();
    return viewNotFound();
  } catch (e) {
    if (e instanceof Handled || !alive()) return undefined;
    return viewError(e);
  }
}

// ---------------------------------------------------------------------------
// Frame

function ensureFrame(signedIn) {
  if (state.main && state.framedSignedIn === signedIn && document.body.contains(state.main)) return state.main;
  const nav = signedIn
    ? [
        h("a", { class: "nav-link", href: `${base}domande`, dataset: { section: "domande" } }, "Domande"),
        h("a", { class: "nav-link", href: `${base}periodi`, dataset: { section: "periodi" } }, "Periodi"),
        h("a", { class: "nav-link", href: `${base}anagrafiche`, dataset: { section: "anagrafiche" } }, "Anagrafiche"),
        h("button", { type: "button", class: "btn btn-link nav-link staff-signout", onclick: signOut }, "Esci"),
      ]
    : [];
  state.main = frame({
    tenant,
    tenantName: state.tenantInfo ? state.tenantInfo.name : null,
    area: AREA,
    homeHref: base,
    nav,
  });
  state.framedSignedIn = signedIn;
  return state.main;
}

/** Mark the current section in the menu. */
function markNav(section) {
  for (const a of document.querySelectorAll("header nav a[data-section]")) {
    if (a.dataset.section === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function signOut() {
  setToken(null);
  history.pushState(null, "", base);
  state.seq += 1;
  renderSignIn(alert("success", "Sei uscito dall'area riservata."));
}

// ---------------------------------------------------------------------------
// Sign-in

function renderSignIn(message = null) {
  const main = ensureFrame(false);
  const cfg = (state.config && state.config.staff_sign_in) || {};
  const feedback = h("div", { class: "staff-feedback" });
  let body;
  if (cfg.kind === "local" && cfg.token_url) {
    const button = h("button", { type: "button", class: "btn btn-primary" }, "Accedi come operatore");
    button.addEventListener("click", () => localSignIn(cfg, button, feedback));
    body = [
      alert(
        "info",
        h("p", { class: "mb-0" }, "Questo è il sistema di prova in locale: l'accesso del personale è simulato e non chiede credenziali. In produzione si accede con l'account del Comune."),
      ),
      h("p", {}, "Entra nel back-office come operatore del Comune per gestire domande, periodi di iscrizione e anagrafiche."),
      button,
    ];
  } else if (cfg.kind === "cognito" && cfg.hosted_ui && cfg.client_id) {
    const button = h("button", { type: "button", class: "btn btn-primary" }, "Accedi con l'account del Comune");
    button.addEventListener("click", () =>
      busy(button, async () => {
        try {
          await cognitoSignIn(cfg);
        } catch {
          feedback.replaceChildren(alert("danger", "Non è stato possibile avviare l'accesso: riprova."));
        }
      }),
    );
    body = [h("p", {}, "Accedi con le credenziali che il Comune ti ha assegnato: sarai portato alla pagina di accesso e poi di nuovo qui."), button];
  } else {
    body = [alert("danger", "L'accesso del personale non è configurato per questo sito: rivolgiti all'amministratore del sistema.")];
  }
  show(main, "Accesso al back-office", message, feedback, ...body);
}

async function localSignIn(cfg, button, feedback) {
  await busy(button, async () => {
    feedback.replaceChildren();
    let token = null;
    try {
      const r = await fetch(cfg.token_url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ tenant }),
        cache: "no-store",
      });
      const data = await r.json().catch(() => null);
      if (!r.ok || !data || !data.token) {
        const message = data && data.error && data.error.message;
        feedback.replaceChildren(alert("danger", message || "Accesso non riuscito: riprova."));
        return;
      }
      token = data.token;
    } catch {
      feedback.replaceChildren(alert("danger", "Connessione non riuscita: controlla la rete e riprova."));
      return;
    }
    setToken(token);
    route();
  });
}

function b64url(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function randomString(n) {
  return b64url(crypto.getRandomValues(new Uint8Array(n)));
}
function hostedUi(cfg) {
  return String(cfg.hosted_ui).replace(/\/+$/, "");
}
function redirectUri() {
  return `${location.origin}${base}accesso`;
}

/** Cognito's hosted UI: authorization code with PKCE (S256). */
async function cognitoSignIn(cfg) {
  const verifier = randomString(48);
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const st = randomString(24);
  const here = location.pathname + location.search;
  const next = here.startsWith(base) && !here.startsWith(`${base}accesso`) && here !== base ? here : `${base}domande`;
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state: st, next }));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: cfg.client_id,
    redirect_uri: redirectUri(),
    scope: "openid email",
    state: st,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`${hostedUi(cfg)}/oauth2/authorize?${params}`);
}

/** Back from the hosted UI: /{tenant}/staff/accesso?code=…&state=… */
async function signInCallback(alive) {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  const returned = params.get("state");
  const failed = params.get("error");
  // The code never stays in the address bar or in the history.
  history.replaceState(null, "", `${base}accesso`);
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
    sessionStorage.removeItem(PKCE_KEY);
  } catch {
    saved = null;
  }
  const cfg = (state.config && state.config.staff_sign_in) || {};
  if (!code && !failed && getToken()) return navigate(`${base}domande`, { replace: true });
  const fail = (text) => {
    history.replaceState(null, "", base);
    renderSignIn(alert("danger", text));
  };
  if (failed || !code) return fail("Accesso non riuscito o annullato: riprova.");
  if (cfg.kind !== "cognito" || !saved || saved.state !== returned) return fail("Accesso non riuscito: la richiesta non è valida o è scaduta. Riprova.");
  const main = ensureFrame(false);
  show(main, "Accesso in corso", h("p", { role: "status" }, "Verifica delle credenziali in corso…"));
  let idToken = null;
  try {
    const r = await fetch(`${hostedUi(cfg)}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: cfg.client_id,
        code,
        redirect_uri: redirectUri(),
        code_verifier: saved.verifier,
      }),
      cache: "no-store",
    });
    const data = await r.json().catch(() => null);
    idToken = r.ok && data ? data.id_token : null;
  } catch {
    idToken = null;
  }
  if (!alive()) return undefined;
  if (!idToken) return fail("Accesso non riuscito: riprova.");
  setToken(idToken);
  return navigate(saved.next || `${base}domande`, { replace: true });
}

// ---------------------------------------------------------------------------
// Simple pages

function viewNotFound() {
  const main = ensureFrame(true);
  markNav(null);
  show(main, "Pagina non trovata", h("p", {}, "L'indirizzo non corrisponde a nessuna pagina del back-office."), h("p", {}, h("a", { href: `${base}domande` }, "Vai all'elenco delle domande")));
}

function viewError(e) {
  const main = ensureFrame(Boolean(getToken()));
  const retry = h("button", { type: "button", class: "btn btn-primary", onclick: () => route() }, "Riprova");
  show(main, "Si è verificato un problema", alert("danger", e instanceof ApiError ? e.message : "Errore imprevisto: ricarica la pagina e riprova."), retry);
}

function apiErrorAlert(e, fallback = "Operazione non riuscita: riprova.") {
  const message = e instanceof ApiError ? e.message : fallback;
  const fields = e instanceof ApiError ? e.fields.filter((f) => f.message) : [];
  return alert("danger", h("p", { class: fields.length ? "mb-2" : "mb-0" }, message), fields.length ? h("ul", { class: "mb-0" }, fields.map((f) => h("li", {}, f.message))) : null);
}

/** Put `box` into `slot` and move focus to it (so it is read at once). */
function announce(slot, box) {
  box.setAttribute("tabindex", "-1");
  slot.replaceChildren(box);
  box.focus();
}

async function refreshWindows() {
  const [{ data }, offered] = await Promise.all([call(tenant, "GET", "/windows"), call(tenant, "GET", "/services").catch(() => ({ data: { services: [] } }))]);
  state.tenantInfo = data.tenant || state.tenantInfo;
  state.windows = Array.isArray(data.windows) ? data.windows : [];
  state.services = offered.data.services || [];
  return state.windows;
}

/** Who meets the child, and the delegates, for the office. */
function meetingRows(part, alone) {
  if (!part) return [];
  const rows = [["Uscita autonoma", part.autonomous_exit === true ? `Sì: ${alone} (art. 19-bis della legge 172/2017)` : part.autonomous_exit === false ? "No: lo accoglie un genitore o una persona delegata" : null]];
  if (part.autonomous_exit === false) {
    const delegates = part.delegates || [];
    rows.push(["Persone delegate", delegates.length ? h("ul", { class: "mb-0 ps-3" }, delegates.map((d) => h("li", {}, `${d.first_name} ${d.last_name} (${d.relationship}), codice fiscale ${d.fiscal_code}`))) : "Nessuna: lo accoglie sempre un genitore"]);
  }
  return rows;
}

/** The rows of the application's own service. */
function serviceRows(app, w, days, diet) {
  const part = app.service || {};
  const offer = state.services.find((x) => x.service === w?.service) || { stops: [], slots: [], criteria: [] };
  const criteria = offer.criteria?.length
    ? [["Criteri dichiarati (DPR 445/2000)", (part.criteria || []).length ? part.criteria.map((c) => { const k = offer.criteria.find((x) => x.code === c); return k ? `${k.label} (${k.points} punti)` : c; }).join("; ") : "Nessuno"]]
    : [];
  if (w?.service === "trasporto") {
    const t = part.transport || {};
    const stop = (offer.stops || []).find((x) => x.id === t.stop_id);
    return [
      ["Fermata", stop ? `${stop.name} – ${stop.route}` : t.stop_id],
      ["Viaggi", { both: "Andata e ritorno", to_school: "Solo andata", from_school: "Solo ritorno" }[t.direction] || null],
      ...meetingRows(t, "scende da solo alla fermata del ritorno"),
      ...criteria,
    ];
  }
  if (w?.service === "pre_post_scuola") {
    const slots = (part.slots || []).map((id) => (offer.slots || []).find((x) => x.id === id)?.name || id).join(", ");
    return [["Fasce orarie", slots], ["Giorni", days], ...meetingRows(part.pickup, "esce da solo al termine del post scuola"), ...criteria];
  }
  return [
    ["Dieta", diet ? DIETS[diet.kind] || diet.kind : null],
    ["Note sulla dieta", diet ? diet.notes : null],
    ["Giorni", days],
    ...criteria,
  ];
}

// ---------------------------------------------------------------------------
// Domande: the list

async function viewList(alive) {
  const q = new URLSearchParams(location.search);
  const windowId = q.get("window_id") || "";
  // The search text stays in the history entry, never in the URL: it may
  // be a fiscal code.
  const search = (history.state && history.state.search) || "";
  const status = STATUS_FILTER.some(([v]) => v === q.get("status")) ? q.get("status") || "" : "";
  state.lastList = location.pathname + location.search;
  const main = ensureFrame(true);
  markNav("domande");

  const windowOptions = [["", "Tutti"], ...state.windows.map((w) => [w.id, `${windowLabel(w)} (${statusLabel(w.status).toLowerCase()})`])];
  if (windowId && !state.windows.some((w) => w.id === windowId)) windowOptions.push([windowId, windowId]);
  const form = h(
    "form",
    { class: "staff-filters", novalidate: true, "aria-label": "Filtri delle domande" },
    field({ name: "window_id", label: "Periodo di iscrizione", type: "select", value: windowId, options: windowOptions }),
    field({
      name: "status",
      label: "Stato",
      type: "select",
      value: status,
      options: STATUS_FILTER,
      hint: "«Tutti» comprende le domande inviate, da integrare, in lista d'attesa, confermate e respinte.",
    }),
    h("div", { class: "mb-4" }, h("button", { type: "submit", class: "btn btn-primary" }, "Filtra")),
  );
  const searchForm = h(
    "form",
    { class: "staff-filters", novalidate: true, role: "search", "aria-label": "Cerca una domanda" },
    field({
      name: "q",
      label: "Cerca per codice utente o codice fiscale dell'alunno",
      value: search,
      maxlength: 16,
      hint: "Il valore esatto: 8 cifre del codice utente, oppure i 16 caratteri del codice fiscale. Cerca in tutti i periodi.",
      attrs: { autocomplete: "off", spellcheck: "false", autocapitalize: "characters" },
    }),
    h("div", { class: "mb-4" }, h("button", { type: "submit", class: "btn btn-outline-primary" }, "Cerca")),
  );
  searchForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const value = searchForm.elements.q.value.trim().toUpperCase();
    clearFieldErrors(searchForm);
    if (!value) {
      setFieldError(searchForm, "q", "Scrivi il codice utente o il codice fiscale dell'alunno.");
      searchForm.elements.q.focus();
      return;
    }
    history.pushState({ search: value }, "", `${base}domande`);
    route();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const params = new URLSearchParams();
    const w = form.elements.window_id.value;
    const s = form.elements.status.value;
    if (w) params.set("window_id", w);
    if (s) params.set("status", s);
    const qs = params.toString();
    const target = `${base}domande${qs ? `?${qs}` : ""}`;
    navigate(target, { replace: target === location.pathname + location.search });
  });

  const results = h("section", { class: "mt-2", "aria-labelledby": "risultati" });
  const counts = h("div", { id: "window-counts" });
  show(main, "Domande d'iscrizione", searchForm, form, counts, results);
  if (windowId && !search) loadCounts(counts, windowId, alive).catch(() => {});

  const saved = history.state && history.state.list;
  const paging = saved && saved.key === location.search ? { cursor: saved.cursor || "", stack: saved.stack || [] } : { cursor: "", stack: [] };
  await loadListPage(results, alive, { windowId, status, search }, paging, false);
}

/** The window's counts per status, at the top of its list. */
async function loadCounts(slot, windowId, alive) {
  let data;
  try {
    ({ data } = await api("GET", `/staff/windows/${encodeURIComponent(windowId)}/stats`));
  } catch (e) {
    if (e instanceof Handled || !alive()) return;
    slot.replaceChildren(apiErrorAlert(e, "Conteggi non disponibili: riprova."));
    return;
  }
  if (!alive()) return;
  const w = windowById(windowId);
  const counts = data.counts || {};
  slot.replaceChildren(
    h(
      "section",
      { class: "staff-counts mb-3", "aria-labelledby": "conteggi" },
      h("h2", { class: "h5", id: "conteggi" }, `Domande per stato${w ? `: ${windowLabel(w)}` : ""}`),
      h(
        "dl",
        { class: "staff-count-list" },
        COUNT_ORDER.map((s) => h("div", { class: "staff-count" }, h("dt", {}, statusLabel(s)), h("dd", {}, String(counts[s] ?? 0)))),
        h("div", { class: "staff-count" }, h("dt", {}, "Posti"), h("dd", {}, data.capacity ? String(data.capacity) : "Senza limite")),
      ),
    ),
  );
}

async function loadListPage(results, alive, filters, paging, focus) {
  const heading = h("h2", { id: "risultati", class: "h4", tabindex: "-1" }, "Risultati");
  results.replaceChildren(heading, h("p", { role: "status" }, "Caricamento delle domande…"));
  const params = new URLSearchParams();
  if (filters.search) params.set("q", filters.search);
  else {
    if (filters.windowId) params.set("window_id", filters.windowId);
    if (filters.status) params.set("status", filters.status);
    if (paging.cursor) params.set("cursor", paging.cursor);
  }
  const qs = params.toString();
  let data;
  try {
    ({ data } = await api("GET", `/staff/applications${qs ? `?${qs}` : ""}`));
  } catch (e) {
    if (e instanceof Handled || !alive()) throw e;
    results.replaceChildren(heading, apiErrorAlert(e), h("p", {}, h("a", { href: `${base}domande` }, "Torna all'elenco completo")));
    if (focus) heading.focus();
    return;
  }
  if (!alive()) return;
  // The page's cursors stay in the history entry, never in the URL.
  history.replaceState({ ...(history.state || {}), list: { key: location.search, cursor: paging.cursor, stack: paging.stack } }, "", location.href);

  const items = Array.isArray(data.items) ? data.items : [];
  const page = paging.stack.length + 1;
  const filterText = filters.search
    ? "ricerca per codice"
    : [
        filters.windowId ? (windowById(filters.windowId) ? windowLabel(windowById(filters.windowId)) : filters.windowId) : "tutti i periodi",
        filters.status ? `stato ${statusLabel(filters.status)}` : "tutti gli stati",
      ].join(", ");
  const content = [heading];
  if (filters.search) content.push(h("p", {}, h("a", { href: `${base}domande` }, "Torna all'elenco completo")));
  // Check boxes on the applications waiting for a decision, then one click.
  const selectable = items.filter((a) => a.status === "submitted");
  const bulkFeedback = h("div", { class: "staff-feedback" });
  const bulkButton = h("button", { type: "button", class: "btn btn-success", disabled: true }, "Conferma selezionate");
  const selected = () => [...results.querySelectorAll("input[name=select]:checked")].map((c) => ({ id: c.value, version: Number(c.dataset.version) }));
  const syncBulk = () => {
    const n = selected().length;
    bulkButton.disabled = n === 0;
    bulkButton.textContent = n ? `Conferma selezionate (${n})` : "Conferma selezionate";
  };
  bulkButton.addEventListener("click", () =>
    busy(bulkButton, async () => {
      const chosen = selected();
      if (!chosen.length) return;
      try {
        const { data: out } = await api("POST", "/staff/applications/confirm", { body: { ids: chosen.map((c) => c.id), versions: chosen.map((c) => c.version) } });
        const byId = Object.fromEntries(items.map((a) => [a.id, a]));
        const ok = out.results.filter((r) => r.status === "confirmed");
        const failed = out.results.filter((r) => r.error);
        const messages = {
          no_places: "posti esauriti",
          version_conflict: "modificata dalla famiglia dopo la lettura: riaprila",
          invalid_transition: "non è più da decidere",
          not_found: "non trovata",
        };
        await loadListPage(results, alive, filters, paging, false);
        const counts = document.getElementById("window-counts");
        if (counts && filters.windowId && !filters.search) await loadCounts(counts, filters.windowId, alive);
        const slot = h("div", { class: "staff-feedback" });
        results.insertBefore(slot, results.children[1] || null);
        announce(
          slot,
          alert(
            failed.length ? "warning" : "success",
            h("p", { class: failed.length ? "mb-2" : "mb-0" }, `${ok.length === 1 ? "1 domanda confermata" : `${ok.length} domande confermate`}: le famiglie riceveranno una email con l'esito.`),
            failed.length
              ? [
                  h("p", { class: "mb-1" }, "Non confermate:"),
                  h("ul", { class: "mb-0" }, failed.map((r) => h("li", {}, `${personName(byId[r.id]?.pupil) || r.id}: ${messages[r.error.code] || r.error.code}`))),
                ]
              : null,
          ),
        );
      } catch (e) {
        if (e instanceof Handled) return;
        announce(bulkFeedback, apiErrorAlert(e));
      }
    }),
  );
  if (!items.length) {
    content.push(
      alert(
        "info",
        h("p", { class: "mb-0" }, page === 1 ? "Nessuna domanda corrisponde ai filtri scelti. Prova a cambiare il periodo o lo stato." : "Non ci sono altre domande."),
      ),
    );
  } else {
    content.push(h("p", { class: "text-muted" }, `Pagina ${page}: ${items.length === 1 ? "1 domanda" : `${items.length} domande`}, dalla più recente.`));
    content.push(
      h(
        "div",
        { class: "table-responsive" },
        h(
          "table",
          { class: "table table-striped staff-table" },
          h("caption", {}, `Domande d'iscrizione (${filterText}), pagina ${page}`),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              [
                selectable.length ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Seleziona")) : null,
                ...["Alunno", "Codice utente", "Servizio e periodo", "Stato", "Inviata il", "Azioni"].map((t) => h("th", { scope: "col" }, t)),
              ],
            ),
          ),
          h(
            "tbody",
            {},
            items.map((a) => {
              const name = personName(a.pupil);
              const w = windowById(a.window_id);
              const checkId = `sel-${a.id}`;
              return h(
                "tr",
                {},
                selectable.length
                  ? h(
                      "td",
                      {},
                      a.status === "submitted"
                        ? [
                            h("input", { type: "checkbox", class: "form-check-input", name: "select", id: checkId, value: a.id, dataset: { version: String(a.version) }, onchange: syncBulk }),
                            h("label", { for: checkId, class: "visually-hidden" }, `Seleziona la domanda di ${name || a.id}`),
                          ]
                        : null,
                    )
                  : null,
                h("td", {}, name || "—"),
                h("td", {}, a.user_code || "—"),
                h("td", {}, w ? windowLabel(w) : a.window_id),
                h("td", {}, badge(a.status)),
                h("td", {}, fmtDateTime(a.submitted_at)),
                h(
                  "td",
                  {},
                  h(
                    "a",
                    { href: `${base}domande/${encodeURIComponent(a.id)}` },
                    "Apri",
                    h("span", { class: "visually-hidden" }, name ? ` la domanda di ${name}` : " la domanda"),
                  ),
                ),
              );
            }),
          ),
        ),
      ),
    );
  }
  const pager = [];
  if (paging.stack.length) {
    pager.push(
      h(
        "button",
        {
          type: "button",
          class: "btn btn-outline-primary",
          onclick: () => {
            const stack = paging.stack.slice(0, -1);
            loadListPage(results, alive, filters, { cursor: paging.stack.at(-1), stack }, true).catch(() => {});
          },
        },
        "Pagina precedente",
      ),
    );
  }
  if (data.next_cursor) {
    pager.push(
      h(
        "button",
        {
          type: "button",
          class: "btn btn-outline-primary",
          onclick: () => {
            loadListPage(results, alive, filters, { cursor: data.next_cursor, stack: [...paging.stack, paging.cursor] }, true).catch(() => {});
          },
        },
        "Pagina successiva",
      ),
    );
  }
  if (selectable.length) content.push(h("div", { class: "staff-bulk mt-3" }, bulkButton, h("p", { class: "small text-muted mt-2" }, "Ogni domanda selezionata è confermata come con «Conferma domanda»: la famiglia riceve l'esito, i posti sono rispettati."), bulkFeedback));
  if (pager.length) content.push(h("nav", { class: "staff-pager mt-3", "aria-label": "Pagine dell'elenco" }, pager));
  results.replaceChildren(...content);
  if (focus) heading.focus();
}

// ---------------------------------------------------------------------------
// Domande: one application

async function viewDetail(alive, id) {
  const main = ensureFrame(true);
  markNav("domande");
  let app;
  try {
    ({ data: app } = await api("GET", `/staff/applications/${encodeURIComponent(id)}`));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      if (!alive()) return;
      show(main, "Domanda non trovata", h("p", {}, "Non esiste una domanda con questo identificativo per il Comune."), h("p", {}, h("a", { href: state.lastList }, "Torna all'elenco delle domande")));
      return;
    }
    throw e;
  }
  if (!alive()) return;
  renderDetail(app, null);
}

function section(title, ...content) {
  return h("section", { class: "summary-section" }, h("h2", { class: "h4" }, title), ...content);
}
function dlist(rows) {
  return h(
    "dl",
    {},
    rows.filter(Boolean).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, blank(v) || (Array.isArray(v) && !v.length) ? "—" : v)]),
  );
}
function yesNo(v) {
  if (v === true) return "Sì";
  if (v === false) return "No";
  return "—";
}
/** What the family proved: "Email verificata, SPID/CIE; cellulare non verificato". */
function verificationText(v) {
  if (!v) return null;
  const proved = [v.email ? "email" : null, v.phone ? "cellulare" : null, v.spid ? "SPID/CIE" : null].filter(Boolean);
  const missing = [v.email ? null : "email", v.phone ? null : "cellulare"].filter(Boolean);
  const parts = [];
  if (proved.length) parts.push(`Verificati: ${proved.join(", ")}`);
  if (missing.length) parts.push(`non verificati: ${missing.join(", ")}`);
  return parts.join("; ");
}

function byLabel(by) {
  if (by === "parent") return "Genitore";
  if (by === "system") return "Sistema (automatico)";
  if (typeof by === "string" && by.startsWith("staff:")) return `Operatore (${by.slice(6)})`;
  return by || "—";
}

function renderDetail(app, notice) {
  const main = ensureFrame(true);
  markNav("domande");
  const id = app.id;
  const pupil = app.pupil || {};
  const guardian = app.guardian || {};
  const address = guardian.address || null;
  const service = app.service || {};
  const diet = service.diet || null;
  const w = windowById(app.window_id);
  const feedback = h("div", { class: "staff-feedback" });

  const addressText = address
    ? [address.street, [address.postal_code, address.city, address.province ? `(${address.province})` : null].filter(Boolean).join(" ")].filter(Boolean).join(", ")
    : null;
  const days = Array.isArray(service.days) ? service.days.map((d) => DAY_NAMES[d] || d).join(", ") : null;
  const isee = app.isee;
  const entries = Array.isArray(app.history) ? app.history : [];

  const parts = [
    h("p", {}, h("a", { href: state.lastList }, "Torna all'elenco delle domande")),
    feedback,
    app.contested
      ? h(
          "div",
          { class: "alert alert-warning", role: "note" },
          h("p", { class: "fw-semibold mb-1" }, "Domanda contesa"),
          h("p", { class: "mb-0" }, "Un'altra famiglia ha provato a iscrivere lo stesso alunno nello stesso periodo. Prima di confermare, controlla con la famiglia che i dati del genitore siano corretti."),
        )
      : null,
    h(
      "p",
      { class: "lead" },
      `Alunno: ${personName(app.pupil) || "—"}`,
      " · ",
      w ? windowLabel(w) : app.window_id,
      " · Stato: ",
      badge(app.status),
    ),
    section(
      "Stato della domanda",
      dlist([
        ["Stato", badge(app.status)],
        ["Tipo", KINDS[app.kind] || app.kind],
        ["Codice utente", app.user_code],
        ["Periodo di iscrizione", w ? `${windowLabel(w)} (${statusLabel(w.status).toLowerCase()})` : app.window_id],
        ["Primo salvataggio", fmtDateTime(app.first_saved_at)],
        ["Ultima modifica", fmtDateTime(app.updated_at)],
        ["Invio", app.submitted_at ? fmtDateTime(app.submitted_at) : "Non inviata"],
        ["Decisione", app.decided_at ? fmtDateTime(app.decided_at) : "Non ancora decisa"],
        app.decision_reason ? ["Motivo del rifiuto", app.decision_reason] : null,
        Array.isArray(app.missing) && app.missing.length ? ["Dati mancanti per l'invio", app.missing.join(", ")] : null,
        ["Verifiche della famiglia", verificationText(app.verification)],
        app.rank ? ["Posizione in graduatoria", `${app.rank.position}${w?.capacity ? ` su ${w.capacity} posti` : ""} (${app.rank.points} punti): ${app.rank.within_capacity ? "entro i posti" : "oltre i posti"}`] : null,
      ]),
    ),
    section(
      "Alunno",
      dlist([
        ["Codice fiscale", pupil.fiscal_code],
        ["Nome", pupil.first_name],
        ["Cognome", pupil.last_name],
        ["Data di nascita", pupil.birth_date ? fmtDate(pupil.birth_date) : null],
        ["Scuola", pupil.school],
        ["Classe", pupil.grade],
        ["Sezione", pupil.section],
      ]),
    ),
    section(
      "Genitore o tutore",
      dlist([
        ["Codice fiscale", guardian.fiscal_code],
        ["Nome", guardian.first_name],
        ["Cognome", guardian.last_name],
        ["Relazione con l'alunno", RELATIONSHIPS[guardian.relationship] || guardian.relationship],
        ["Email", guardian.email],
        ["Telefono", guardian.phone],
        ["Indirizzo", addressText],
      ]),
    ),
    section(
      "Servizio",
      dlist([
        ["Servizio", w ? w.service_name || SERVICES[w.service] : null],
        ["Anno scolastico", w ? w.school_year : null],
        ...serviceRows(app, w, days, diet),
      ]),
    ),
    section(
      "ISEE e tariffa",
      dlist([
        ["ISEE", isee && isee.isee_cents !== null && isee.isee_cents !== undefined ? euro(isee.isee_cents) : "Non presentato"],
        ["Attestazione ISEE allegata", isee ? yesNo(Boolean(isee.attachment_id)) : "No"],
        ["Fascia tariffaria", app.fee_band ? `${app.fee_band.code} (${euro(app.fee_band.fee_cents)}${w?.service === "refezione" ? " a pasto" : ""})` : "Non ancora assegnata"],
      ]),
    ),
    attachmentsSection(app, feedback),
    section(
      "Dichiarazioni",
      dlist([
        ["Informativa privacy (art. 13 GDPR) presa visione", yesNo(app.declarations && app.declarations.privacy)],
        ["Regolamento del servizio accettato", yesNo(app.declarations && app.declarations.regulation)],
        ["Dichiarazione di veridicità (DPR 445/2000)", yesNo(app.declarations && app.declarations.truthfulness)],
      ]),
    ),
    section(
      "Cronologia",
      entries.length
        ? h(
            "div",
            // On a phone the table scrolls sideways: the keyboard must reach it too.
            { class: "table-responsive", tabindex: "0", role: "region", "aria-label": "Cronologia, tabella scorrevole" },
            h(
              "table",
              { class: "table table-sm staff-table" },
              h("caption", {}, "Cronologia degli stati della domanda e delle aperture del certificato medico"),
              h("thead", {}, h("tr", {}, ["Data e ora", "Autore", "Da", "A", "Motivo"].map((t) => h("th", { scope: "col" }, t)))),
              h(
                "tbody",
                {},
                entries.map((e) =>
                  e.event === "attachment_opened"
                    ? h("tr", {}, h("td", {}, fmtDateTime(e.at)), h("td", {}, byLabel(e.by)), h("td", { colspan: "2" }, "—"), h("td", {}, `${ATTACHMENT_NAMES[e.kind] || e.kind} aperto`))
                    : h("tr", {}, h("td", {}, fmtDateTime(e.at)), h("td", {}, byLabel(e.by)), h("td", {}, e.from ? statusLabel(e.from) : "—"), h("td", {}, statusLabel(e.to)), h("td", {}, e.reason || "—")),
                ),
              ),
            ),
          )
        : h("p", {}, "Nessun cambio di stato registrato."),
    ),
  ];
  if (app.status === "changes_requested") parts.splice(3, 0, changeRequestNotice(app));
  if (["submitted", "waitlisted", "changes_requested"].includes(app.status)) parts.push(decisionSection(app, feedback));
  if (app.status === "submitted") parts.push(requestChangesSection(app, feedback));
  if (["draft", "submitted", "confirmed", "waitlisted", "changes_requested"].includes(app.status)) parts.push(withdrawalSection(app, feedback));
  show(main, "Domanda d'iscrizione", ...parts);
  if (notice) announce(feedback, notice);
}

function decisionSection(app, feedback) {
  const id = encodeURIComponent(app.id);
  const confirmButton = h("button", { type: "button", class: "btn btn-success" }, "Conferma domanda");
  confirmButton.addEventListener("click", () =>
    busy(confirmButton, async () => {
      try {
        const { data } = await api("POST", `/staff/applications/${id}/confirm`, { ifMatch: app.version });
        renderDetail(data, alert("success", h("p", { class: "mb-0" }, "Domanda confermata: ora è «Confermata». Il genitore riceverà una email con l'esito.")));
      } catch (e) {
        await decisionFailed(e, app, feedback);
      }
    }),
  );

  const form = h(
    "form",
    { novalidate: true, class: "mt-4", "aria-labelledby": "rifiuto-titolo" },
    h("h3", { class: "h5", id: "rifiuto-titolo" }, "Respingi la domanda"),
    field({
      name: "reason",
      label: "Motivo del rifiuto",
      type: "textarea",
      required: true,
      maxlength: 1000,
      hint: "Il motivo sarà comunicato al genitore via email (al massimo 1000 caratteri).",
      attrs: { required: true },
    }),
    h("button", { type: "submit", class: "btn btn-danger" }, "Respingi domanda"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const textarea = form.elements.reason;
    clearFieldErrors(form);
    const reason = textarea.value.trim();
    if (!reason) {
      setFieldError(form, "reason", "Scrivi il motivo del rifiuto.");
      textarea.focus();
      return;
    }
    busy(button, async () => {
      try {
        const { data } = await api("POST", `/staff/applications/${id}/reject`, { body: { reason }, ifMatch: app.version });
        renderDetail(data, alert("success", h("p", { class: "mb-0" }, "Domanda respinta: ora è «Respinta». Il genitore riceverà una email con il motivo.")));
      } catch (err) {
        if (err instanceof ApiError && err.status === 422 && err.fields.length) {
          const unplaced = err.fields.filter((f) => !setFieldError(form, f.field, f.message));
          if (unplaced.length) feedback.replaceChildren(apiErrorAlert(err));
          textarea.focus();
          return;
        }
        await decisionFailed(err, app, feedback);
      }
    });
  });

  return h(
    "section",
    { class: "summary-section staff-decision", "aria-labelledby": "decisione-titolo" },
    h("h2", { class: "h4", id: "decisione-titolo" }, "Decisione"),
    app.status === "changes_requested"
      ? h("p", {}, "L'ufficio attende le modifiche della famiglia: potrai confermare quando la domanda torna «Inviata». Puoi comunque respingerla.")
      : h("p", {}, "La domanda è stata inviata e attende la decisione dell'ufficio. Il genitore riceve una email con l'esito."),
    app.status === "changes_requested" ? null : confirmButton,
    app.status === "submitted" && app.rank && !app.rank.within_capacity ? waitlistButton(app, feedback) : null,
    form,
  );
}

const ATTACHMENT_NAMES = { isee: "Attestazione ISEE", medical_certificate: "Certificato medico" };

function fileSize(bytes) {
  if (typeof bytes !== "number") return "";
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / (1024 * 1024)).toLocaleString("it-IT", { maximumFractionDigits: 1 })} MB`;
}

/**
 * What the family uploaded, behind a button: listing a medical certificate
 * is recorded in the history (health data), so nothing is fetched until the
 * operator asks.
 */
function attachmentsSection(app, feedback) {
  const slot = h("div", {});
  const button = h("button", { type: "button", class: "btn btn-outline-primary" }, "Mostra gli allegati");
  button.addEventListener("click", () =>
    busy(button, async () => {
      let data;
      try {
        ({ data } = await api("GET", `/staff/applications/${encodeURIComponent(app.id)}/attachments`));
      } catch (e) {
        if (e instanceof Handled) return;
        announce(feedback, apiErrorAlert(e));
        return;
      }
      const list = data.attachments || [];
      const box = list.length
        ? h(
            "ul",
            { class: "list-unstyled staff-attachments", tabindex: "-1" },
            list.map((a) =>
              h(
                "li",
                { class: "mb-2" },
                h("a", { href: a.url, class: "btn btn-outline-primary btn-sm", target: "_blank", rel: "noopener" }, `Apri ${ATTACHMENT_NAMES[a.kind] || a.kind}`),
                " ",
                h("span", { class: "small text-muted" }, `${a.filename} (${a.content_type === "application/pdf" ? "PDF" : a.content_type.replace("image/", "").toUpperCase()}, ${fileSize(a.size)})`),
              ),
            ),
          )
        : h("p", { tabindex: "-1" }, "La famiglia non ha caricato allegati.");
      slot.replaceChildren(box, list.length ? h("p", { class: "small" }, "I collegamenti valgono 5 minuti: se scadono, premi di nuovo «Mostra gli allegati».") : null);
      box.focus();
    }),
  );
  return section(
    "Allegati",
    h("p", {}, "L'attestazione ISEE e il certificato medico che la famiglia ha caricato. Ogni apertura del certificato medico resta registrata nella cronologia della domanda."),
    button,
    slot,
  );
}

/** The office's open request, at the top of the detail. */
function changeRequestNotice(app) {
  const r = app.change_request || {};
  return h(
    "div",
    { class: "alert alert-warning", role: "note" },
    h("p", { class: "fw-semibold mb-1" }, "Modifiche richieste alla famiglia"),
    h("p", { class: "mb-1" }, r.message || "—"),
    h("p", { class: "mb-0" }, `Entro il ${fmtDateTime(r.due_at)}; dopo, la domanda torna «Inviata» così com'è.`),
  );
}

/** A default due time for a request: seven days from now, at noon. */
function defaultDue() {
  const d = new Date(Date.now() + 7 * 86400000);
  d.setHours(12, 0, 0, 0);
  return toLocalInput(d.toISOString());
}

/** Instead of rejecting: ask the family for a document or a correction. */
function requestChangesSection(app, feedback) {
  const id = encodeURIComponent(app.id);
  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "richiesta-titolo" },
    h("h2", { class: "h4", id: "richiesta-titolo" }, "Chiedi modifiche alla famiglia"),
    h("p", {}, "Se manca un documento o un dato è da correggere, la famiglia riceve il messaggio per email e può modificare la domanda e inviarla di nuovo entro la scadenza, anche a periodo chiuso."),
    field({
      name: "change_message",
      label: "Che cosa deve modificare o integrare la famiglia",
      type: "textarea",
      required: true,
      maxlength: 2000,
      hint: "Il messaggio arriva alla famiglia così come lo scrivi (al massimo 2000 caratteri).",
      attrs: { required: true },
    }),
    field({
      name: "change_due",
      label: "Scadenza",
      type: "datetime-local",
      value: defaultDue(),
      required: true,
      hint: "Data e ora (ora locale) entro cui la famiglia può rispondere: tra un'ora e 90 giorni da adesso.",
    }),
    h("button", { type: "submit", class: "btn btn-outline-primary" }, "Invia la richiesta"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    clearFieldErrors(form);
    const message = form.elements.change_message.value.trim();
    const due = toUtc(form.elements.change_due.value);
    if (!message) setFieldError(form, "change_message", "Scrivi che cosa deve modificare la famiglia.");
    if (!due) setFieldError(form, "change_due", "Indica la data e l'ora della scadenza.");
    if (!message || !due) {
      (message ? form.elements.change_due : form.elements.change_message).focus();
      return;
    }
    busy(button, async () => {
      try {
        const { data } = await api("POST", `/staff/applications/${id}/request-changes`, { body: { message, due_at: due }, ifMatch: app.version });
        renderDetail(data, alert("success", h("p", { class: "mb-0" }, "Richiesta inviata: la domanda ora è «Da integrare». La famiglia riceverà una email con il messaggio.")));
      } catch (err) {
        if (err instanceof ApiError && err.status === 422 && err.fields.length) {
          const names = { message: "change_message", due_at: "change_due" };
          const unplaced = err.fields.filter((f) => !setFieldError(form, names[f.field] || f.field, f.message));
          if (unplaced.length) feedback.replaceChildren(apiErrorAlert(err));
          form.querySelector("[aria-invalid=true]")?.focus();
          return;
        }
        await decisionFailed(err, app, feedback);
      }
    });
  });
  return h("section", { class: "summary-section staff-request-changes" }, form);
}

/** Beyond the places: the office moves the application to the waiting list. */
function waitlistButton(app, feedback) {
  const button = h("button", { type: "button", class: "btn btn-outline-primary ms-2" }, "Sposta in lista d'attesa");
  button.addEventListener("click", () =>
    busy(button, async () => {
      try {
        const { data } = await api("POST", `/staff/applications/${encodeURIComponent(app.id)}/waitlist`, { ifMatch: app.version });
        renderDetail(data, alert("success", h("p", { class: "mb-0" }, "Domanda spostata in lista d'attesa. La famiglia riceverà una email.")));
      } catch (e) {
        await decisionFailed(e, app, feedback);
      }
    }),
  );
  return button;
}

/** The family gave the place up by phone or at the counter: recorded with its reason. */
function withdrawalSection(app, feedback) {
  const id = encodeURIComponent(app.id);
  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "rinuncia-titolo" },
    h("h2", { class: "h4", id: "rinuncia-titolo" }, "Rinuncia della famiglia"),
    h("p", {}, "Se la famiglia rinuncia per telefono o allo sportello, registralo qui: la domanda diventa «Ritirata», l'alunno e il posto sono liberati e la famiglia riceve una email di conferma."),
    field({
      name: "withdraw_reason",
      label: "Come e quando la famiglia ha rinunciato",
      type: "textarea",
      required: true,
      maxlength: 1000,
      hint: "Resta nella cronologia della domanda (al massimo 1000 caratteri).",
      attrs: { required: true },
    }),
    h("button", { type: "submit", class: "btn btn-outline-danger" }, "Registra la rinuncia"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const textarea = form.elements.withdraw_reason;
    clearFieldErrors(form);
    const reason = textarea.value.trim();
    if (!reason) {
      setFieldError(form, "withdraw_reason", "Scrivi come e quando la famiglia ha rinunciato.");
      textarea.focus();
      return;
    }
    busy(button, async () => {
      try {
        const { data } = await api("POST", `/staff/applications/${id}/withdraw`, { body: { reason } });
        renderDetail(data, alert("success", h("p", { class: "mb-0" }, "Rinuncia registrata: la domanda ora è «Ritirata». La famiglia riceverà una email di conferma.")));
      } catch (err) {
        if (err instanceof ApiError && err.status === 422 && err.fields.length) {
          setFieldError(form, "withdraw_reason", err.fields[0].message);
          textarea.focus();
          return;
        }
        await decisionFailed(err, app, feedback);
      }
    });
  });
  return h("section", { class: "summary-section staff-withdrawal" }, form);
}

async function decisionFailed(e, app, feedback) {
  if (e instanceof Handled) return;
  if (e instanceof ApiError && (e.status === 409 || e.status === 412)) {
    // Someone else decided first, or the family changed the application
    // since it was shown: show it as it is now, to be read again.
    try {
      const { data } = await api("GET", `/staff/applications/${encodeURIComponent(app.id)}`);
      renderDetail(
        data,
        alert("warning", h("p", { class: "mb-0" }, `${e.message} La domanda è stata ricaricata: ora è «${statusLabel(data.status)}».`)),
      );
    } catch (again) {
      if (!(again instanceof Handled)) announce(feedback, apiErrorAlert(again));
    }
    return;
  }
  announce(feedback, apiErrorAlert(e));
}

// ---------------------------------------------------------------------------
// Periodi: enrollment windows

/** A `datetime-local` value (browser time) for an RFC 3339 time. */
function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
/** RFC 3339 UTC, without milliseconds, of a `datetime-local` value. */
function toUtc(local) {
  if (!local) return null;
  const d = new Date(local);
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
function nowUtc() {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}
function rosterFileName(w) {
  return `elenco-${w.service}-${String(w.school_year).replace(/\//g, "-")}.csv`;
}

async function viewWindows(alive) {
  const main = ensureFrame(true);
  markNav("periodi");
  await refreshWindows();
  if (!alive()) return;
  const feedback = h("div", { class: "staff-feedback" });
  const tableSlot = h("div", {});
  const ctx = { feedback, tableSlot };
  renderWindowTable(ctx);
  show(
    main,
    "Periodi di iscrizione",
    feedback,
    h("p", {}, "I periodi in cui i genitori possono inviare le domande. Da qui scarichi l'elenco degli iscritti per le scuole, prolunghi o chiudi un periodo e ne crei di nuovi."),
    tableSlot,
    newWindowForm(ctx),
  );
}

function renderWindowTable(ctx) {
  const windows = [...state.windows].sort((a, b) => String(b.opens_at).localeCompare(String(a.opens_at)));
  if (!windows.length) {
    ctx.tableSlot.replaceChildren(alert("info", h("p", { class: "mb-0" }, "Non ci sono ancora periodi di iscrizione: creane uno con il modulo qui sotto.")));
    return;
  }
  const rows = [];
  for (const w of windows) {
    const label = windowLabel(w);
    const editId = `modifica-${w.id}`;
    const download = h("button", { type: "button", class: "btn btn-outline-primary btn-sm" }, "Scarica elenco (CSV)", h("span", { class: "visually-hidden" }, ` di ${label}`));
    download.addEventListener("click", () => downloadRoster(w, download, ctx));
    const ranking = h("button", { type: "button", class: "btn btn-outline-primary btn-sm" }, "Scarica graduatoria (CSV)", h("span", { class: "visually-hidden" }, ` di ${label}`));
    ranking.addEventListener("click", () => downloadRoster(w, ranking, ctx, "ranking"));
    const diets = h("button", { type: "button", class: "btn btn-outline-primary btn-sm" }, "Scarica diete (CSV)", h("span", { class: "visually-hidden" }, ` di ${label}`));
    diets.addEventListener("click", () => downloadRoster(w, diets, ctx, "diets"));
    const toggle = h(
      "button",
      { type: "button", class: "btn btn-outline-primary btn-sm", "aria-expanded": "false", "aria-controls": editId },
      "Proroga o chiudi",
      h("span", { class: "visually-hidden" }, ` ${label}`),
    );
    const editRow = h("tr", { id: editId, class: "staff-window-edit", hidden: true }, h("td", { colspan: "7" }, windowEditForm(w, ctx)));
    toggle.addEventListener("click", () => {
      const open = editRow.hidden;
      editRow.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      if (open) {
        const input = editRow.querySelector("input[type=datetime-local]");
        if (input) input.focus();
      }
    });
    rows.push(
      h(
        "tr",
        { dataset: { window: w.id } },
        h("td", {}, w.service_name || SERVICES[w.service] || w.service),
        h("td", {}, w.school_year),
        h("td", {}, fmtDateTime(w.opens_at)),
        h("td", {}, fmtDateTime(w.closes_at)),
        h("td", {}, w.capacity ? `${w.capacity} (${w.ranking === "points" ? "per punteggio" : "per ordine di invio"})` : "Senza limite"),
        h("td", {}, badge(w.status)),
        h("td", {}, h("div", { class: "staff-actions" }, download, w.capacity ? ranking : null, w.service === "refezione" ? diets : null, toggle)),
      ),
      editRow,
    );
  }
  ctx.tableSlot.replaceChildren(
    h(
      "div",
      { class: "table-responsive" },
      h(
        "table",
        { class: "table staff-table" },
        h("caption", {}, "Periodi di iscrizione del Comune, dal più recente"),
        h("thead", {}, h("tr", {}, ["Servizio", "Anno scolastico", "Apertura", "Chiusura", "Posti", "Stato", "Azioni"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows),
      ),
    ),
  );
}

function windowEditForm(w, ctx) {
  const label = windowLabel(w);
  const name = `closes-${w.id}`;
  const local = h("div", { class: "staff-feedback" });
  const save = h("button", { type: "submit", class: "btn btn-primary btn-sm" }, "Salva la nuova chiusura");
  const closeNow = h("button", { type: "button", class: "btn btn-outline-danger btn-sm" }, "Chiudi ora");
  const confirmClose = h("button", { type: "button", class: "btn btn-danger btn-sm" }, "Conferma chiusura");
  const cancelClose = h("button", { type: "button", class: "btn btn-outline-secondary btn-sm" }, "Annulla");
  const confirmBox = h(
    "div",
    { class: "staff-confirm mt-3", hidden: true },
    h("p", { class: "mb-2" }, `Il periodo ${label} chiuderà subito: i genitori non potranno più inviare domande. Confermi?`),
    h("div", { class: "staff-actions" }, confirmClose, cancelClose),
  );
  const form = h(
    "form",
    { novalidate: true, class: "py-2", "aria-label": `Proroga o chiudi ${label}` },
    h("p", { class: "fw-semibold" }, `Proroga o chiudi: ${label}`),
    field({
      name,
      label: "Nuova chiusura",
      type: "datetime-local",
      value: toLocalInput(w.closes_at),
      required: true,
      hint: "Data e ora (ora locale) in cui il periodo chiude. Una data più lontana proroga il periodo, una più vicina lo accorcia.",
    }),
    h("div", { class: "staff-actions" }, save, closeNow),
    confirmBox,
    local,
  );
  const patch = async (closesAt, button) => {
    clearFieldErrors(form);
    local.replaceChildren();
    try {
      const { data } = await api("PATCH", `/staff/windows/${encodeURIComponent(w.id)}`, { body: { closes_at: closesAt } });
      await refreshWindows().catch(() => {
        state.windows = state.windows.map((x) => (x.id === data.id ? { ...x, ...data } : x));
      });
      renderWindowTable(ctx);
      announce(
        ctx.feedback,
        alert("success", h("p", { class: "mb-0" }, `Periodo ${label} aggiornato: chiusura il ${fmtDateTime(data.closes_at)}, stato «${statusLabel(data.status)}».`)),
      );
    } catch (e) {
      if (e instanceof Handled) return;
      if (e instanceof ApiError && e.status === 422) {
        const unplaced = e.fields.filter((f) => !(f.field === "closes_at" && setFieldError(form, name, f.message)));
        if (unplaced.length || !e.fields.length) announce(local, apiErrorAlert(e));
        form.elements[name].focus();
        return;
      }
      announce(local, apiErrorAlert(e));
      if (button && document.body.contains(button)) button.focus();
    }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    const value = toUtc(form.elements[name].value);
    if (!value) {
      setFieldError(form, name, "Indica la data e l'ora della nuova chiusura.");
      form.elements[name].focus();
      return;
    }
    busy(save, () => patch(value, save));
  });
  closeNow.addEventListener("click", () => {
    confirmBox.hidden = false;
    closeNow.setAttribute("aria-expanded", "true");
    confirmClose.focus();
  });
  cancelClose.addEventListener("click", () => {
    confirmBox.hidden = true;
    closeNow.setAttribute("aria-expanded", "false");
    closeNow.focus();
  });
  closeNow.setAttribute("aria-expanded", "false");
  confirmClose.addEventListener("click", () => busy(confirmClose, () => patch(nowUtc(), confirmClose)));
  return form;
}

/** The roster (`roster.csv`), the ranking (`ranking.csv`) or the caterer's diets (`diets.csv`) of a window, as a download. */
async function downloadRoster(w, button, ctx, kind = "roster") {
  await busy(button, async () => {
    try {
      const { text } = await api("GET", `/staff/windows/${encodeURIComponent(w.id)}/${kind}.csv`, { raw: true });
      const filename = { ranking: "graduatoria", diets: "diete" }[kind] ? rosterFileName(w).replace(/^elenco/, { ranking: "graduatoria", diets: "diete" }[kind]) : rosterFileName(w);
      const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
      const a = h("a", { href: url, download: filename, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 30000);
      const what = { ranking: "Graduatoria", diets: "Elenco delle diete" }[kind] || "Elenco";
      ctx.feedback.replaceChildren(alert("success", h("p", { class: "mb-0" }, `${what} di ${windowLabel(w)} scaricato nel file ${filename}.`)));
    } catch (e) {
      if (e instanceof Handled) return;
      announce(ctx.feedback, apiErrorAlert(e, "Download non riuscito: riprova."));
    }
  });
}

function newWindowForm(ctx) {
  const summary = h("div", {});
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Crea il periodo");
  const form = h(
    "form",
    { novalidate: true, class: "staff-form", "aria-labelledby": "nuovo-periodo" },
    summary,
    field({
      name: "service",
      label: "Servizio",
      type: "select",
      required: true,
      options: [["", "Scegli il servizio"], ...Object.entries(SERVICES)],
    }),
    field({ name: "school_year", label: "Anno scolastico", required: true, hint: "ad esempio 2026/2027", autocomplete: "off", maxlength: 9 }),
    field({ name: "opens_at", label: "Apertura", type: "datetime-local", required: true, hint: "Data e ora (ora locale) da cui si possono inviare le domande." }),
    field({ name: "closes_at", label: "Chiusura", type: "datetime-local", required: true, hint: "Data e ora (ora locale) in cui il periodo chiude." }),
    field({ name: "capacity", label: "Posti disponibili", inputmode: "numeric", hint: "Lascia vuoto se non ci sono limiti di posti. Il limite vale alla conferma delle domande.", maxlength: 6 }),
    field({ name: "ranking", label: "Graduatoria oltre i posti", type: "select", value: "first_come", options: [["first_come", "Per ordine di invio"], ["points", "Per punteggio dei criteri dichiarati, poi ordine di invio"]] }),
    submit,
  );
  const showErrors = (message, fields) => {
    for (const f of fields) setFieldError(form, f.field, f.message);
    const box = errorSummary(message, fields, (f) => WINDOW_FIELDS[f] || f);
    summary.replaceChildren(box);
    box.focus();
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    summary.replaceChildren();
    const els = form.elements;
    const body = {
      service: els.service.value,
      school_year: els.school_year.value.trim(),
      opens_at: toUtc(els.opens_at.value),
      closes_at: toUtc(els.closes_at.value),
      // Not a whole number: sent as typed, for the API's field error.
      capacity: els.capacity.value.trim() === "" ? null : Number.isInteger(Number(els.capacity.value.trim())) ? Number(els.capacity.value.trim()) : els.capacity.value.trim(),
      ranking: els.ranking.value,
    };
    const missing = [];
    if (!body.service) missing.push({ field: "service", message: "Scegli il servizio." });
    if (!body.school_year) missing.push({ field: "school_year", message: "Scrivi l'anno scolastico, ad esempio 2026/2027." });
    if (!body.opens_at) missing.push({ field: "opens_at", message: "Indica data e ora di apertura." });
    if (!body.closes_at) missing.push({ field: "closes_at", message: "Indica data e ora di chiusura." });
    if (missing.length) {
      showErrors("Il periodo non è stato creato: correggi i campi indicati.", missing);
      return;
    }
    busy(submit, async () => {
      try {
        const { data } = await api("POST", "/staff/windows", { body });
        await refreshWindows().catch(() => {
          state.windows = [...state.windows, data];
        });
        renderWindowTable(ctx);
        form.reset();
        announce(
          ctx.feedback,
          alert("success", h("p", { class: "mb-0" }, `Periodo creato: ${windowLabel(data)}, dal ${fmtDateTime(data.opens_at)} al ${fmtDateTime(data.closes_at)}.`)),
        );
      } catch (err) {
        if (err instanceof Handled) return;
        if (err instanceof ApiError && err.status === 422 && err.fields.length) {
          showErrors(err.message, err.fields);
          return;
        }
        summary.replaceChildren();
        announce(summary, apiErrorAlert(err));
      }
    });
  });
  return h(
    "section",
    { class: "mt-5", "aria-labelledby": "nuovo-periodo" },
    h("h2", { class: "h4", id: "nuovo-periodo" }, "Nuovo periodo di iscrizione"),
    h("p", {}, "Un servizio può avere più periodi nello stesso anno scolastico, ad esempio una seconda fase per le iscrizioni tardive."),
    form,
  );
}

// ---------------------------------------------------------------------------
// Anagrafiche: last year's roster

function viewImport() {
  const main = ensureFrame(true);
  markNav("anagrafiche");
  const feedback = h("div", { class: "staff-feedback" });
  const report = h("div", {});
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Importa");
  const form = h(
    "form",
    { novalidate: true, class: "staff-form", "aria-label": "Importa le anagrafiche" },
    field({
      name: "file",
      label: "File CSV delle anagrafiche",
      type: "file",
      required: true,
      attrs: { accept: ".csv,text/csv" },
      hint: [
        "File CSV in UTF-8 (al massimo 5 MiB e 10.000 righe) la cui prima riga è questa intestazione: ",
        h("code", { class: "staff-csv-header" }, ROSTER_HEADER),
        ". Per il trasporto si può aggiungere in fondo la colonna stop_id, la fermata dell'anno scorso: il rinnovo parte da quella.",
      ],
    }),
    submit,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    feedback.replaceChildren();
    const input = form.elements.file;
    const file = input.files && input.files[0];
    if (!file) {
      setFieldError(form, "file", "Scegli il file CSV da importare.");
      input.focus();
      return;
    }
    busy(submit, async () => {
      report.replaceChildren();
      let text;
      try {
        text = await file.text();
      } catch {
        announce(feedback, alert("danger", "Non è stato possibile leggere il file: riprova."));
        return;
      }
      try {
        const { data } = await api("POST", "/staff/roster-imports", { body: text, contentType: "text/csv" });
        renderImportReport(data, feedback, report);
      } catch (err) {
        if (err instanceof Handled) return;
        for (const f of err instanceof ApiError ? err.fields : []) {
          if (f.field === "file" || f.field === "header") setFieldError(form, "file", f.message);
        }
        announce(feedback, apiErrorAlert(err, "Importazione non riuscita: riprova."));
      }
    });
  });
  show(
    main,
    "Anagrafiche dell'anno precedente",
    feedback,
    h(
      "p",
      {},
      "Importa gli utenti dell'anno scolastico precedente: i genitori potranno rinnovare l'iscrizione ritrovando i dati già compilati. Le righe corrette sono salvate anche se altre sono scartate; importare due volte lo stesso file non cambia nulla.",
    ),
    form,
    report,
  );
}

function renderImportReport(data, feedback, report) {
  const rejected = Array.isArray(data.rejected) ? data.rejected : [];
  const imported = data.imported ?? 0;
  const unchanged = data.unchanged ?? 0;
  announce(
    feedback,
    alert(
      rejected.length ? "warning" : "success",
      h("p", { class: "fw-semibold mb-1" }, rejected.length ? "Importazione completata con righe scartate." : "Importazione completata."),
      h("p", { class: "mb-0" }, `Importate: ${imported}, invariate: ${unchanged}, scartate: ${rejected.length}.`),
    ),
  );
  if (!rejected.length) {
    report.replaceChildren();
    return;
  }
  report.replaceChildren(
    h(
      "section",
      { class: "mt-4", "aria-labelledby": "righe-scartate" },
      h("h2", { class: "h4", id: "righe-scartate" }, "Righe scartate"),
      h("p", {}, "Correggi queste righe nel file e importalo di nuovo: le righe già importate restano invariate."),
      h(
        "div",
        { class: "table-responsive" },
        h(
          "table",
          { class: "table table-sm staff-table" },
          h("caption", {}, "Righe scartate del file (la riga 1 è l'intestazione)"),
          h("thead", {}, h("tr", {}, ["Riga", "Codice", "Colonna", "Spiegazione"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            rejected.map((r) =>
              h(
                "tr",
                {},
                h("td", {}, String(r.line)),
                h("td", {}, h("code", {}, r.code)),
                h("td", {}, r.field ? ROSTER_COLUMNS[r.field] || r.field : "—"),
                h("td", {}, r.message || ROSTER_CODES[r.code] || "Riga non valida."),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------
// Start

async function start() {
  focusRings();
  if (!tenant) {
    const main = frame({ tenant: null, tenantName: null, area: AREA, homeHref: "/", nav: [] });
    show(main, "Pagina non trovata", h("p", {}, "L'indirizzo non indica un Comune."));
    return;
  }
  document.addEventListener("click", onLinkClick);
  window.addEventListener("popstate", () => route());
  let config;
  try {
    [config] = await Promise.all([portalConfig(), refreshWindows()]);
  } catch (e) {
    const main = frame({ tenant, tenantName: null, area: AREA, homeHref: base, nav: [] });
    if (e instanceof ApiError && e.status === 404) {
      show(
        main,
        "Comune non trovato",
        alert("warning", h("p", { class: "mb-0" }, `Nessun Comune usa l'indirizzo «${tenant}» su questo servizio. Controlla l'indirizzo che ti ha dato l'ufficio.`)),
      );
      return;
    }
    show(
      main,
      "Servizio non disponibile",
      alert("danger", h("p", { class: "mb-0" }, e instanceof ApiError ? e.message : "Errore imprevisto: ricarica la pagina.")),
      h("button", { type: "button", class: "btn btn-primary", onclick: () => location.reload() }, "Riprova"),
    );
    return;
  }
  state.config = config || {};
  await route();
}

start();
