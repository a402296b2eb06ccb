// The staff back-office in a browser, on a desktop viewport: sign-in with
// the local stand-in, the list with filters, one application confirmed
// (and the guardian mailed), another rejected with a reason, windows
// created, extended and (not) closed, a roster CSV downloaded, last year's
// roster imported with a per-line report; axe-core on every page and state.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { startStack, launch, newPage, DESKTOP, PHONE, accessible, shot, outbox, fiscalCode, email, letters, submittedApplication, completeDraft } from "./support.mjs";

const T = "demo";
const WINDOW = "w-refezione-2026";
const ROSTER_HEADER =
  "user_code,service,pupil_fiscal_code,pupil_first_name,pupil_last_name,pupil_birth_date,school,grade,section,guardian_fiscal_code,guardian_first_name,guardian_last_name,guardian_email,guardian_phone,balance_cents";

let stack;
let browser;
let page;
const errors = [];
let axeChecks = 0;

async function noViolations(p, label) {
  await accessible(p, label);
  axeChecks += 1;
}

async function windowIds(base) {
  const r = await fetch(`${base}/v1/${T}/windows`);
  return (await r.json()).windows.map((w) => w.id);
}

async function heading(p, text) {
  await p.getByRole("heading", { level: 1, name: text }).waitFor();
}

async function signIn(p, base) {
  await p.goto(`${base}/${T}/staff/`);
  await heading(p, "Accesso al back-office");
  await p.getByRole("button", { name: "Accedi come operatore" }).click();
  await heading(p, "Domande d'iscrizione");
  await p.getByRole("heading", { level: 2, name: "Risultati" }).waitFor();
  await p.locator("table caption, .alert-info").first().waitFor();
}

describe("staff back-office", () => {
  let first;
  let second;

  before(async () => {
    stack = await startStack("staff");
    browser = await launch();
    page = await newPage(browser, DESKTOP, errors);
    first = await submittedApplication(stack.base, "staff-a");
    second = await submittedApplication(stack.base, "staff-b");
    // Another family tries to enroll the second pupil: refused, and the
    // second application is marked contested for the office.
    const rival = await completeDraft(stack.base, "staff-rival", { pupil: second.fiscalCode, expect: 409 });
    assert.equal(rival.reply.error.code, "duplicate_pupil");
  });

  after(async () => {
    console.log(`axe checks: ${axeChecks}`);
    if (browser) await browser.close();
    if (stack) await stack.stop();
  });

  it("signs in with the local stand-in and lists the applications", async () => {
    await page.goto(`${stack.base}/${T}/staff/`);
    await heading(page, "Accesso al back-office");
    await noViolations(page, "staff sign-in");
    await shot(page, "staff-00-sign-in");
    await page.getByRole("button", { name: "Accedi come operatore" }).click();
    await heading(page, "Domande d'iscrizione");
    assert.match(new URL(page.url()).pathname, /^\/demo\/staff\/domande$/);
    await page.locator("table caption").waitFor();
    assert.equal(await page.locator("h1").count(), 1);
    assert.equal(await page.getByRole("link", { name: "Esci" }).count(), 0, "Esci is a button");
    await page.getByRole("button", { name: "Esci" }).waitFor();
    await noViolations(page, "staff list");
    await shot(page, "staff-01-list");
  });

  it("filters by window and status, with the filters in the URL", async () => {
    await page.getByLabel("Periodo di iscrizione").selectOption(WINDOW);
    await page.getByLabel("Stato").selectOption("submitted");
    await page.getByRole("button", { name: "Filtra" }).click();
    await page.waitForURL((u) => u.searchParams.get("window_id") === WINDOW && u.searchParams.get("status") === "submitted");
    const link = page.getByRole("link", { name: `Apri la domanda di ${first.name}` });
    await link.waitFor();
    await page.getByRole("link", { name: `Apri la domanda di ${second.name}` }).waitFor();
    const row = page.locator("tr", { has: link });
    assert.match(await row.innerText(), new RegExp(first.userCode));
    assert.match(await row.innerText(), /Inviata/);
    // No personal data in the address bar.
    assert.doesNotMatch(page.url(), new RegExp(`${first.name.split(" ")[1]}|${first.fiscalCode}`, "i"));
    assert.match(await page.locator("table caption").innerText(), /Refezione scolastica 2026\/2027, stato Inviata/);
    await noViolations(page, "staff list filtered");
    await shot(page, "staff-02-list-filtered");
  });

  it("opens an application and confirms it; the guardian is mailed", async () => {
    await page.getByRole("link", { name: `Apri la domanda di ${first.name}` }).click();
    await heading(page, "Domanda d'iscrizione");
    assert.equal(new URL(page.url()).pathname, `/demo/staff/domande/${first.id}`);
    const text = await page.locator("main").innerText();
    for (const expected of [first.fiscalCode, first.userCode, first.email, "Via Roma 1", "70033 Corato", "(BA)", "Nessuna", "Lunedì, Martedì, Mercoledì, Giovedì, Venerdì", "Non presentato", "Padre", "Genitore"]) {
      assert.ok(text.includes(expected), `detail shows ${expected}`);
    }
    await page.getByRole("table", { name: "Cronologia degli stati della domanda" }).waitFor();
    assert.ok(text.includes("Verificati: email; non verificati: cellulare"), "what the family proved");
    assert.equal(await page.getByText("Domanda contesa").count(), 0);
    await noViolations(page, "staff detail submitted");
    await shot(page, "staff-03-detail");

    await page.getByRole("button", { name: "Conferma domanda" }).click();
    const done = page.locator(".staff-feedback .alert-success");
    await done.waitFor();
    assert.match(await done.innerText(), /Confermata/);
    assert.equal(await done.getAttribute("role"), "status");
    assert.match(await page.locator(".summary-section dl").first().innerText(), /Confermata/);
    assert.equal(await page.getByRole("button", { name: "Conferma domanda" }).count(), 0);
    assert.match(await page.getByRole("table", { name: "Cronologia degli stati della domanda" }).innerText(), /Operatore.*\n?.*Inviata.*Confermata/s);
    await noViolations(page, "staff detail confirmed");
    await shot(page, "staff-04-confirmed");

    let mail;
    for (let i = 0; i < 50 && !mail; i += 1) {
      mail = (await outbox(stack.base)).find((m) => m.to.includes(first.email) && /Iscrizione confermata/.test(m.subject));
      if (!mail) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(mail, "the decision mail went to the guardian");
  });

  it("rejects another application with a reason, after a field error for an empty one", async () => {
    await page.getByRole("link", { name: "Torna all'elenco delle domande" }).click();
    await heading(page, "Domande d'iscrizione");
    assert.equal(new URL(page.url()).searchParams.get("status"), "submitted");
    await page.getByRole("link", { name: `Apri la domanda di ${second.name}` }).click();
    await heading(page, "Domanda d'iscrizione");
    await page.getByRole("note").filter({ hasText: "Domanda contesa" }).waitFor();
    await noViolations(page, "staff detail contested");
    await shot(page, "staff-04b-contested");
    await page.getByRole("button", { name: "Respingi domanda" }).click();
    const textarea = page.getByLabel("Motivo del rifiuto");
    const err = page.locator("#f-reason-err");
    await page.waitForFunction(() => document.querySelector("#f-reason-err")?.textContent === "Scrivi il motivo del rifiuto.");
    assert.equal(await err.innerText(), "Scrivi il motivo del rifiuto.");
    assert.ok((await textarea.getAttribute("aria-describedby")).split(" ").includes("f-reason-err"));
    assert.equal(await textarea.getAttribute("aria-invalid"), "true");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "f-reason");
    await noViolations(page, "staff reject empty reason");

    await textarea.fill("Residenza fuori dal Comune.");
    await page.getByRole("button", { name: "Respingi domanda" }).click();
    const done = page.locator(".staff-feedback .alert-success");
    await done.waitFor();
    assert.match(await done.innerText(), /Respinta/);
    const status = await page.locator(".summary-section dl").first().innerText();
    assert.match(status, /Respinta/);
    assert.match(status, /Residenza fuori dal Comune\./);
    await noViolations(page, "staff detail rejected");
    await shot(page, "staff-05-rejected");
  });

  it("records a family's withdrawal with its reason", async () => {
    const third = await submittedApplication(stack.base, "staff-c");
    await page.goto(`${stack.base}/${T}/staff/domande/${third.id}`);
    await heading(page, "Domanda d'iscrizione");
    await page.getByRole("button", { name: "Registra la rinuncia" }).click();
    await page.locator("#f-withdraw_reason-err").filter({ hasText: "Scrivi come e quando" }).waitFor();
    await noViolations(page, "staff withdrawal, no reason");
    await page.getByLabel("Come e quando la famiglia ha rinunciato").fill("Telefonata della madre, 3 dicembre: trasferimento.");
    await page.getByRole("button", { name: "Registra la rinuncia" }).click();
    const done = page.locator(".staff-feedback .alert-success");
    await done.waitFor();
    assert.match(await done.innerText(), /Ritirata/);
    assert.match(await page.getByRole("table", { name: "Cronologia degli stati della domanda" }).innerText(), /trasferimento/);
    assert.equal(await page.getByRole("button", { name: "Registra la rinuncia" }).count(), 0);
    await noViolations(page, "staff withdrawal recorded");
    await shot(page, "staff-05b-withdrawn");
  });

  it("sees the rank beyond the places and moves an application to the waiting list; the family sees it", async () => {
    const token = await page.evaluate(() => sessionStorage.getItem("staff-token:demo"));
    const now = Date.now();
    const r = await fetch(`${stack.base}/v1/${T}/staff/windows`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ service: "pre_post_scuola", school_year: "2026/2027", opens_at: new Date(now - 86400000).toISOString(), closes_at: new Date(now + 20 * 86400000).toISOString(), capacity: 1, ranking: "points" }),
    });
    assert.equal(r.status, 201);
    const w = (await r.json()).id;
    const care = { slots: ["pre"], days: ["mon"], criteria: [] };
    const submit = async (tag) => {
      const d = await completeDraft(stack.base, tag, { window: w, service: care });
      const s = await d.post(`/applications/${d.id}/submit`, undefined, d.token);
      assert.equal(s.status, 200);
      return d;
    };
    await submit("place-a");
    const second = await submit("place-b");
    await page.goto(`${stack.base}/${T}/staff/domande/${second.id}`);
    await heading(page, "Domanda d'iscrizione");
    await page.getByText("2 su 1 posti (0 punti): oltre i posti").waitFor();
    await page.getByRole("button", { name: "Sposta in lista d'attesa" }).click();
    await page.locator(".staff-feedback .alert-success").filter({ hasText: "lista d'attesa" }).waitFor();
    await noViolations(page, "staff waitlisted");
    await shot(page, "staff-05c-waitlisted");
    // The family's status page says so.
    const family = await newPage(browser, PHONE, errors);
    await family.goto(`${stack.base}/${T}/`);
    await family.evaluate((s) => sessionStorage.setItem("demo:session", JSON.stringify(s)), { token: second.token, session: second.session.session });
    await family.goto(`${stack.base}/${T}/domande/${second.id}`);
    await family.getByRole("region", { name: "Stato iscrizione" }).getByText("In lista d’attesa").first().waitFor();
    await family.getByText("2 su 1 posti (0 punti): oltre i posti disponibili").waitFor();
    await noViolations(family, "parent waitlisted");
    await shot(family, "parent-waitlisted");
    await family.context().close();
  });

  it("pages through the list, and the page survives a visit to the detail", async () => {
    // One application a page (the API's `limit`), so that two pages exist.
    const onePerPage = (route) => {
      const u = new URL(route.request().url());
      u.searchParams.set("limit", "1");
      route.continue({ url: u.toString() });
    };
    await page.route((u) => u.pathname === `/v1/${T}/staff/applications`, onePerPage);
    await page.getByRole("link", { name: "Domande", exact: true }).click();
    await heading(page, "Domande d'iscrizione");
    await page.getByLabel("Periodo di iscrizione").selectOption(WINDOW);
    await page.getByRole("button", { name: "Filtra" }).click();
    await page.waitForURL((u) => u.searchParams.get("window_id") === WINDOW && !u.searchParams.has("status"));
    const caption = page.locator("table caption");
    await caption.waitFor();
    assert.match(await caption.innerText(), /pagina 1$/);
    assert.equal(await page.getByRole("button", { name: "Pagina precedente" }).count(), 0);
    const firstRow = await page.locator("tbody tr").first().innerText();
    await page.getByRole("button", { name: "Pagina successiva" }).click();
    await page.locator("table caption", { hasText: "pagina 2" }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "risultati");
    const secondRow = await page.locator("tbody tr").first().innerText();
    assert.notEqual(secondRow, firstRow);
    assert.ok(!page.url().includes("cursor"), "cursors stay out of the URL");
    await noViolations(page, "staff list page 2");
    await page.getByRole("link", { name: /^Apri la domanda/ }).first().click();
    await heading(page, "Domanda d'iscrizione");
    await page.goBack();
    await page.locator("table caption", { hasText: "pagina 2" }).waitFor();
    await page.getByRole("button", { name: "Pagina precedente" }).click();
    await page.locator("table caption", { hasText: "pagina 1" }).waitFor();
    assert.equal(await page.locator("tbody tr").first().innerText(), firstRow);
    await page.unroute((u) => u.pathname === `/v1/${T}/staff/applications`, onePerPage);
  });

  it("creates a window (after the API's field error), extends it and refuses to close it before it opens", async () => {
    await page.getByRole("link", { name: "Periodi", exact: true }).click();
    await heading(page, "Periodi di iscrizione");
    assert.equal(await page.getByRole("link", { name: "Periodi", exact: true }).getAttribute("aria-current"), "page");
    await page.locator(`tr[data-window="${WINDOW}"]`).waitFor();
    await noViolations(page, "staff windows");
    await shot(page, "staff-06-windows");

    const before = await windowIds(stack.base);
    const y = 2090 + Math.floor(Math.random() * 9);
    const year = `${y}/${y + 1}`;
    await page.locator("#f-service").selectOption("pre_post_scuola");
    await page.locator("#f-school_year").fill(year);
    await page.locator("#f-opens_at").fill(`${y}-04-01T08:00`);
    await page.locator("#f-closes_at").fill(`${y}-03-01T08:00`);
    await page.getByRole("button", { name: "Crea il periodo" }).click();
    await page.waitForFunction(() => document.querySelector("#f-closes_at-err")?.textContent);
    assert.match(await page.locator("#f-closes_at-err").innerText(), /successiva all'apertura/);
    assert.equal(await page.locator("#f-closes_at").getAttribute("aria-invalid"), "true");
    const summary = page.locator("form .alert-danger");
    assert.match(await summary.innerText(), /Chiusura: La chiusura deve essere successiva/);
    await noViolations(page, "staff new window error");
    await shot(page, "staff-07-new-window-error");

    await page.locator("#f-closes_at").fill(`${y}-05-31T23:00`);
    // Places and their ranking: a count that is not a number is the API's field error.
    await page.getByLabel("Posti disponibili").fill("venti");
    await page.getByRole("button", { name: "Crea il periodo" }).click();
    await page.waitForFunction(() => document.querySelector("#f-capacity-err")?.textContent);
    await page.getByLabel("Posti disponibili").fill("20");
    await page.getByLabel("Graduatoria oltre i posti").selectOption("points");
    await page.getByRole("button", { name: "Crea il periodo" }).click();
    const created = page.locator(".staff-feedback .alert-success");
    await created.waitFor();
    assert.match(await created.innerText(), new RegExp(`Pre e post scuola ${year}`));
    const ids = (await windowIds(stack.base)).filter((id) => !before.includes(id));
    assert.equal(ids.length, 1, "one new window");
    const row = page.locator(`tr[data-window="${ids[0]}"]`);
    assert.match(await row.innerText(), /Programmata/);
    assert.match(await row.innerText(), /20 \(per punteggio\)/);
    await row.getByRole("button", { name: /Scarica graduatoria/ }).waitFor();
    assert.match(await row.innerText(), /01\/04\/\d{4},? 08:00/);
    await noViolations(page, "staff window created");

    await row.getByRole("button", { name: /Proroga o chiudi/ }).click();
    const input = page.locator(`#f-closes-${ids[0]}`);
    assert.equal(await input.inputValue(), `${y}-05-31T23:00`);
    await noViolations(page, "staff window edit open");
    await input.fill(`${y}-06-15T23:00`);
    await page.getByRole("button", { name: "Salva la nuova chiusura" }).click();
    const extended = page.locator(".staff-feedback .alert-success", { hasText: "aggiornato" });
    await extended.waitFor();
    assert.match(await extended.innerText(), new RegExp(`15/06/${y}`));
    assert.match(await page.locator(`tr[data-window="${ids[0]}"]`).innerText(), new RegExp(`15/06/${y}`));
    const w = (await (await fetch(`${stack.base}/v1/${T}/windows`)).json()).windows.find((x) => x.id === ids[0]);
    assert.equal(w.closes_at, `${y}-06-15T21:00:00Z`);
    await noViolations(page, "staff window extended");
    await shot(page, "staff-08-window-extended");

    // "Chiudi ora" asks for a second click; this window opens in the future,
    // so the API refuses and its message shows next to the field.
    const editRow = page.locator(`#modifica-${ids[0]}`);
    await page.locator(`tr[data-window="${ids[0]}"]`).getByRole("button", { name: /Proroga o chiudi/ }).click();
    await editRow.getByRole("button", { name: "Chiudi ora" }).click();
    const confirmClose = editRow.getByRole("button", { name: "Conferma chiusura" });
    await confirmClose.waitFor();
    await noViolations(page, "staff window close confirm");
    await confirmClose.click();
    await page.waitForFunction((id) => document.getElementById(`f-closes-${id}-err`)?.textContent, ids[0]);
    assert.match(await page.locator(`#f-closes-${ids[0]}-err`).innerText(), /successiva all'apertura/);
    await noViolations(page, "staff window close refused");
  });

  it("downloads the roster CSV of a window", async () => {
    const row = page.locator(`tr[data-window="${WINDOW}"]`);
    const [download] = await Promise.all([page.waitForEvent("download"), row.getByRole("button", { name: /Scarica elenco \(CSV\)/ }).click()]);
    assert.equal(download.suggestedFilename(), "elenco-refezione-2026-2027.csv");
    const csv = readFileSync(await download.path(), "utf8").replace(/^\uFEFF/, "");
    const lines = csv.split(/\r?\n/);
    // Every field quoted; the diet only as its kind (notes are for the caterer's list).
    assert.equal(lines[0], '"user_code","pupil_last_name","pupil_first_name","pupil_fiscal_code","school","grade","section","diet","status"');
    const line = lines.find((l) => l.startsWith(`"${first.userCode}",`));
    assert.ok(line, "the confirmed pupil is in the roster");
    assert.ok(line.includes(first.fiscalCode));
    assert.ok(!lines.some((l) => l.startsWith(`"${second.userCode}",`)), "the rejected pupil is not");
    await page.locator(".staff-feedback .alert-success", { hasText: "scaricato" }).waitFor();
    await noViolations(page, "staff roster downloaded");
  });

  it("imports a roster with one good and one bad line", async () => {
    await page.getByRole("link", { name: "Anagrafiche", exact: true }).click();
    await heading(page, "Anagrafiche dell'anno precedente");
    assert.match(await page.locator("#f-file-hint").innerText(), new RegExp(ROSTER_HEADER));
    await noViolations(page, "staff import");

    await page.getByRole("button", { name: "Importa" }).click();
    await page.waitForFunction(() => document.querySelector("#f-file-err")?.textContent === "Scegli il file CSV da importare.");
    await noViolations(page, "staff import no file");

    const userCode = String(10000000 + Math.floor(Math.random() * 89999999));
    const good = [userCode, "refezione", fiscalCode("2016-03-14", true), "Giulia", `Import${letters(5)}`, "2016-03-14", "Primaria G. Mazzini", "3", "A", fiscalCode("1982-07-09", false), "Marco", "Esposito", email("roster"), "+393331234567", "1500"].join(",");
    const bad = [String(Number(userCode) + 1).padStart(8, "1"), "refezione", "NONVALIDO0000000", "Luca", "Ferri", "2015-10-02", "Primaria", "4", "B", fiscalCode("1985-12-20", true), "Paola", "Ferri", "", "", "0"].join(",");
    const csv = `${ROSTER_HEADER}\n${good}\n${bad}\n`;
    await page.getByLabel("File CSV delle anagrafiche").setInputFiles({ name: "anagrafiche.csv", mimeType: "text/csv", buffer: Buffer.from(csv, "utf8") });
    await page.getByRole("button", { name: "Importa" }).click();
    const report = page.locator(".staff-feedback .alert");
    await report.waitFor();
    assert.match(await report.innerText(), /Importate: 1, invariate: 0, scartate: 1\./);
    const table = page.getByRole("table", { name: /Righe scartate/ });
    const rows = table.locator("tbody tr");
    assert.equal(await rows.count(), 1);
    const cells = await rows.first().locator("td").allInnerTexts();
    assert.equal(cells[0], "3");
    assert.equal(cells[1], "invalid_fiscal_code");
    assert.equal(cells[2], "Codice fiscale dell'alunno");
    assert.equal(cells[3], "Codice fiscale non valido.");
    await noViolations(page, "staff import report");
    await shot(page, "staff-09-import-report");

    // The same file again changes nothing.
    await page.getByRole("button", { name: "Importa" }).click();
    await page.locator(".staff-feedback .alert", { hasText: "invariate: 1" }).waitFor();
  });

  it("signs out, and an expired token leads back to the sign-in", async () => {
    await page.getByRole("button", { name: "Esci" }).click();
    await heading(page, "Accesso al back-office");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("staff-token:demo")), null);
    await noViolations(page, "staff signed out");

    // A token the API refuses (a forged signature): 401, back to the
    // sign-in, and after it to the same page.
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const forged = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ role: "staff", tenant: "demo", exp: 4102444800 })}.c2lnbmF0dXJh`;
    await page.evaluate((t) => sessionStorage.setItem("staff-token:demo", t), forged);
    await page.goto(`${stack.base}/${T}/staff/domande?status=confirmed`);
    await heading(page, "Accesso al back-office");
    await page.getByText("La sessione è scaduta: accedi di nuovo.").waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("staff-token:demo")), null);
    await noViolations(page, "staff session expired");
    await page.getByRole("button", { name: "Accedi come operatore" }).click();
    await heading(page, "Domande d'iscrizione");
    assert.equal(new URL(page.url()).searchParams.get("status"), "confirmed");
    await page.getByRole("link", { name: `Apri la domanda di ${first.name}` }).waitFor();

    // An unreadable token is dropped before any call.
    await page.evaluate(() => sessionStorage.setItem("staff-token:demo", "not-a-token"));
    await page.goto(`${stack.base}/${T}/staff/periodi`);
    await page.getByText("La sessione è scaduta: accedi di nuovo.").waitFor();
    await page.getByRole("button", { name: "Accedi come operatore" }).click();
    await heading(page, "Periodi di iscrizione");
    assert.equal(new URL(page.url()).pathname, "/demo/staff/periodi");

    // Back and forward through the history re-render the pages.
    await page.getByRole("link", { name: "Anagrafiche", exact: true }).click();
    await heading(page, "Anagrafiche dell'anno precedente");
    await page.goBack();
    await heading(page, "Periodi di iscrizione");
    await page.goForward();
    await heading(page, "Anagrafiche dell'anno precedente");
  });

  it("shows a clear page for an unknown tenant and an unknown page", async () => {
    await page.goto(`${stack.base}/nessun-comune/staff/`);
    await heading(page, "Comune non trovato");
    await noViolations(page, "staff unknown tenant");
    await page.goto(`${stack.base}/${T}/staff/non-esiste`);
    await heading(page, "Pagina non trovata");
    await noViolations(page, "staff unknown page");
  });

  it("signs in through Cognito's hosted UI with PKCE (stand-in on the same origin)", async () => {
    const hosted = `${stack.base}/_fake-cognito`;
    const r = await fetch(`${stack.base}/_local/staff-token`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ tenant: T }) });
    const { token } = await r.json();
    const p = await newPage(browser, DESKTOP, errors);
    await p.route("**/config.json", (route) => route.fulfill({ json: { staff_sign_in: { kind: "cognito", hosted_ui: `${hosted}/`, client_id: "staff-client" } } }));
    let authorize;
    await p.route(`${hosted}/oauth2/authorize**`, (route) => {
      authorize = new URL(route.request().url()).searchParams;
      route.fulfill({ status: 302, headers: { location: `${stack.base}/${T}/staff/accesso?code=the-code&state=${authorize.get("state")}` } });
    });
    let exchange;
    await p.route(`${hosted}/oauth2/token`, (route) => {
      exchange = { method: route.request().method(), type: route.request().headers()["content-type"], body: new URLSearchParams(route.request().postData()) };
      route.fulfill({ json: { id_token: token, access_token: "unused", token_type: "Bearer", expires_in: 3600 } });
    });
    await p.goto(`${stack.base}/${T}/staff/periodi`);
    await heading(p, "Accesso al back-office");
    await noViolations(p, "staff sign-in cognito");
    await p.getByRole("button", { name: "Accedi con l'account del Comune" }).click();
    await heading(p, "Periodi di iscrizione");
    assert.equal(new URL(p.url()).pathname, "/demo/staff/periodi");
    assert.equal(new URL(p.url()).search, "");
    assert.equal(authorize.get("response_type"), "code");
    assert.equal(authorize.get("client_id"), "staff-client");
    assert.equal(authorize.get("redirect_uri"), `${stack.base}/${T}/staff/accesso`);
    assert.equal(authorize.get("scope"), "openid email");
    assert.equal(authorize.get("code_challenge_method"), "S256");
    assert.equal(exchange.method, "POST");
    assert.match(exchange.type, /application\/x-www-form-urlencoded/);
    assert.equal(exchange.body.get("grant_type"), "authorization_code");
    assert.equal(exchange.body.get("code"), "the-code");
    assert.equal(exchange.body.get("client_id"), "staff-client");
    assert.equal(exchange.body.get("redirect_uri"), `${stack.base}/${T}/staff/accesso`);
    const verifier = exchange.body.get("code_verifier");
    assert.equal(createHash("sha256").update(verifier).digest("base64url"), authorize.get("code_challenge"));
    assert.equal(await p.evaluate(() => sessionStorage.getItem("staff-token:demo")), token);
    // The code is gone from the history too.
    assert.ok(!(await p.evaluate(() => location.href)).includes("the-code"));

    // A forged state is refused.
    await p.goto(`${stack.base}/${T}/staff/accesso?code=other&state=forged`);
    await p.getByText(/Accesso non riuscito/).waitFor();
    assert.equal(new URL(p.url()).search, "");
    await noViolations(p, "staff sign-in cognito refused");
    await p.context().close();
  });

  it("is usable on a phone", async () => {
    const phone = await newPage(browser, PHONE, errors);
    await signIn(phone, stack.base);
    await noViolations(phone, "staff list phone");
    await shot(phone, "staff-10-phone-list");
    await phone.goto(`${stack.base}/${T}/staff/domande/${first.id}`);
    await heading(phone, "Domanda d'iscrizione");
    await noViolations(phone, "staff detail phone");
    await shot(phone, "staff-11-phone-detail");
    await phone.context().close();
  });

  it("had no page errors", () => {
    assert.deepEqual(errors, []);
  });
});
