// The office's daily work in a browser (issue 14): the counts at the top of
// a window's list, check boxes and "Conferma selezionate", the search box,
// the attachments with the certificate's opening in the history, the
// request for changes, and the family answering it in the portal on a
// phone; axe-core on every new state, desktop and phone.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startStack, launch, newPage, DESKTOP, PHONE, accessible, shot, outbox, submittedApplication, completeDraft } from "./support.mjs";

const T = "demo";
const WINDOW = "w-refezione-2026";

let stack;
let browser;
const errors = [];

async function heading(p, text) {
  await p.getByRole("heading", { level: 1, name: text }).waitFor();
}

async function signIn(p) {
  await p.goto(`${stack.base}/${T}/staff/`);
  await heading(p, "Accesso al back-office");
  await p.getByRole("button", { name: "Accedi come operatore" }).click();
  await heading(p, "Domande d'iscrizione");
  await p.getByRole("heading", { level: 2, name: "Risultati" }).waitFor();
}

/** A submitted application with a medical diet, its certificate uploaded. */
async function withCertificate(tag) {
  const service = { diet: { kind: "medical", notes: "Celiachia" }, days: ["mon", "tue", "wed", "thu", "fri"] };
  const draft = await completeDraft(stack.base, tag, { service });
  const pdf = Buffer.from("%PDF-1.4 certificato di prova");
  const r = await draft.post(`/applications/${draft.id}/attachments`, { kind: "medical_certificate", filename: "certificato.pdf", content_type: "application/pdf", size: pdf.length }, draft.token);
  const link = await r.json();
  assert.equal(r.status, 201, JSON.stringify(link));
  const put = await fetch(link.upload_url, { method: "PUT", headers: { "Content-Type": "application/pdf" }, body: pdf });
  assert.ok(put.ok, `upload ${put.status}`);
  const s = await draft.post(`/applications/${draft.id}/submit`, undefined, draft.token);
  const submitted = await s.json();
  assert.equal(s.status, 200, JSON.stringify(submitted));
  return { ...draft, userCode: submitted.user_code };
}

describe("the office's daily work", () => {
  let a;
  let b;
  let certified;

  before(async () => {
    stack = await startStack("office");
    browser = await launch();
    a = await submittedApplication(stack.base, "office-a");
    b = await submittedApplication(stack.base, "office-b");
    certified = await withCertificate("office-cert");
  });

  after(async () => {
    if (browser) await browser.close();
    if (stack) await stack.stop();
  });

  it("shows the window's counts and confirms the selected applications at once", async () => {
    const page = await newPage(browser, DESKTOP, errors);
    await signIn(page);
    await page.getByLabel("Periodo di iscrizione").selectOption(WINDOW);
    await page.getByLabel("Stato").selectOption("submitted");
    await page.getByRole("button", { name: "Filtra" }).click();
    const counts = page.getByRole("region", { name: /Domande per stato/ });
    await counts.waitFor();
    assert.match(await counts.innerText(), /Inviata\s*3/);
    await noErrors(page, "staff list with counts and check boxes");
    await page.getByLabel(`Seleziona la domanda di ${a.name}`).check();
    await page.getByLabel(`Seleziona la domanda di ${b.name}`).check();
    await page.getByRole("button", { name: "Conferma selezionate (2)" }).click();
    const done = page.locator(".staff-feedback .alert-success");
    await done.waitFor();
    assert.match(await done.innerText(), /2 domande confermate/);
    await noErrors(page, "staff bulk confirm done");
    await shot(page, "office-01-bulk-confirmed");
    const mails = (await outbox(stack.base)).filter((m) => m.to.includes(a.email) || m.to.includes(b.email));
    assert.equal(mails.filter((m) => /esito|confermata/i.test(m.subject)).length, 2, JSON.stringify(mails.map((m) => m.subject)));
    // The counts follow.
    await page.reload();
    await counts.waitFor();
    assert.match(await counts.innerText(), /Confermata\s*2/);
    await page.context().close();
  });

  it("finds an application by user code, opens the certificate and asks the family for a change", async () => {
    const page = await newPage(browser, DESKTOP, errors);
    await signIn(page);
    await page.getByLabel(/Cerca per codice utente/).fill(certified.userCode);
    await page.getByRole("button", { name: "Cerca" }).click();
    const open = page.getByRole("link", { name: `Apri la domanda di ${certified.name}` });
    await open.waitFor();
    // The code searched for is not in the address bar.
    assert.doesNotMatch(page.url(), new RegExp(certified.userCode));
    await noErrors(page, "staff search result");
    await shot(page, "office-02-search");
    await open.click();
    await heading(page, "Domanda d'iscrizione");
    await page.getByRole("button", { name: "Mostra gli allegati" }).click();
    const link = page.getByRole("link", { name: "Apri Certificato medico" });
    await link.waitFor();
    const href = await link.getAttribute("href");
    const file = await fetch(href);
    assert.equal(file.status, 200);
    assert.match(await file.text(), /^%PDF/);
    await noErrors(page, "staff attachments");
    await shot(page, "office-03-attachments");
    await page.reload();
    await heading(page, "Domanda d'iscrizione");
    await page.getByRole("cell", { name: "Certificato medico aperto" }).waitFor();

    // The request for changes: empty first, then sent.
    await page.getByRole("button", { name: "Invia la richiesta" }).click();
    await page.getByText("Scrivi che cosa deve modificare la famiglia.").waitFor();
    await noErrors(page, "staff request changes, empty");
    await page.getByLabel(/Che cosa deve modificare/).fill("Il certificato non è leggibile: caricane una copia più nitida.");
    await page.getByRole("button", { name: "Invia la richiesta" }).click();
    const done = page.locator(".staff-feedback .alert-success");
    await done.waitFor();
    assert.match(await done.innerText(), /Da integrare/);
    await page.getByText("Modifiche richieste alla famiglia").waitFor();
    assert.equal(await page.getByRole("button", { name: "Conferma domanda" }).count(), 0);
    await noErrors(page, "staff changes requested");
    await shot(page, "office-04-changes-requested");
    const mail = (await outbox(stack.base)).filter((m) => m.to.includes(certified.email) && /integrazione/.test(m.subject));
    assert.equal(mail.length, 1);
    assert.match(mail[0].text, /copia più nitida/);
    await page.context().close();
  });

  it("lets the family read the request and send the application again, on a phone", async () => {
    const page = await newPage(browser, PHONE, errors);
    await page.goto(`${stack.base}/${T}/`);
    await page.evaluate((s) => sessionStorage.setItem("demo:session", JSON.stringify(s)), { token: certified.token, session: certified.session.session });
    await page.goto(`${stack.base}/${T}/domande/${certified.id}`);
    await heading(page, /^Domanda di /);
    const request = page.getByRole("region", { name: "L’ufficio chiede di modificare la domanda" });
    await request.waitFor();
    assert.match(await request.innerText(), /copia più nitida/);
    await noErrors(page, "parent status, changes requested");
    await shot(page, "office-05-parent-request");
    await page.getByRole("link", { name: "Vedi il riepilogo" }).click();
    await heading(page, "Riepilogo della domanda");
    await page.getByRole("button", { name: "Invia di nuovo la domanda" }).click();
    await heading(page, /^Domanda di /);
    await page.getByText("Domanda inviata di nuovo all’ufficio").waitFor();
    assert.equal(await page.getByRole("region", { name: "L’ufficio chiede di modificare la domanda" }).count(), 0);
    await noErrors(page, "parent status, sent again");
    await shot(page, "office-06-parent-sent-again");
    await page.context().close();
  });

  it("shows the new back-office states on a phone", async () => {
    const page = await newPage(browser, PHONE, errors);
    await signIn(page);
    await page.goto(`${stack.base}/${T}/staff/domande?window_id=${WINDOW}`);
    await page.getByRole("region", { name: /Domande per stato/ }).waitFor();
    await noErrors(page, "staff counts phone");
    await shot(page, "office-07-phone-counts");
    await page.goto(`${stack.base}/${T}/staff/domande/${certified.id}`);
    await heading(page, "Domanda d'iscrizione");
    await page.getByRole("button", { name: "Mostra gli allegati" }).click();
    await page.getByRole("link", { name: "Apri Certificato medico" }).waitFor();
    await noErrors(page, "staff attachments phone");
    await page.context().close();
  });

  it("had no page errors", () => {
    assert.deepEqual(errors, []);
  });
});

async function noErrors(page, label) {
  await accessible(page, label);
}
