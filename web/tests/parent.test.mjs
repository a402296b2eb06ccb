// The parent's journey in a real browser on a 375-pixel-wide screen: new
// enrollment with the email code, the five steps with errors from the
// browser and from the API, an ISEE upload to private storage, the
// summary, the submission, the status box and the documents; then a
// conflict from another tab, an expired session, the return with fiscal
// code and temporary password, a duplicate pupil. axe-core checks every
// page in every state reached; screenshots go to target/e2e/screenshots.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, launch, newPage, PHONE, accessible, L, tick, shot, outbox, latestCode, temporaryPassword, fiscalCode, email, remember, completeDraft, latestSmsCode, smsOutbox, mobile } from "./support.mjs";

let stack;
let browser;
const errors = [];

before(async () => {
  stack = await startStack("parent");
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

async function heading(page, text) {
  await page.getByRole("heading", { level: 1, name: text }).waitFor();
}

/** The API as another tab of the same parent would call it. */
async function apiAs(page, method, path, body, extra = {}) {
  const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem("demo:session")).token);
  const r = await fetch(`${stack.base}/v1/demo${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...extra },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, etag: r.headers.get("etag"), data: await r.json().catch(() => null) };
}

test("a parent enrolls a child from a phone, by clicking", async () => {
  const page = await newPage(browser, PHONE, errors);
  try {
    await journey(page);
  } catch (e) {
    await shot(page, "parent-FAILED");
    throw e;
  }
  assert.deepEqual(errors, []);
});

async function journey(page) {
  const parentEmail = email("anna");
  const pupilCode = fiscalCode("2018-03-14", true);
  const guardianCode = fiscalCode("1985-06-20", false);

  await page.goto(`${stack.base}/demo/`);
  await heading(page, "Iscrizioni ai servizi scolastici");
  await accessible(page, "home");
  await shot(page, "parent-01-home");
  // Titillium Web comes from the portal's own stylesheet (no style element under the CSP).
  assert.ok(
    await page.evaluate(async () => {
      await document.fonts.ready;
      return [...document.fonts].some((f) => f.family.replace(/["']/g, "") === "Titillium Web" && f.status === "loaded");
    }),
    "Titillium Web is loaded",
  );
  // The footer links the national checks look for, here and on the static pages they open.
  const footerLinks = { "privacy-policy-link": "/privacy.html", "accessibility-link": "/dichiarazione-accessibilita.html", "legal-notes": "/note-legali.html" };
  for (const [element, href] of Object.entries(footerLinks)) {
    assert.equal(await page.locator(`footer a[data-element="${element}"]`).getAttribute("href"), href);
    const r = await fetch(`${stack.base}${href}`);
    assert.equal(r.status, 200, href);
    const html = await r.text();
    for (const [other, otherHref] of Object.entries(footerLinks)) assert.ok(html.includes(`<a href="${otherHref}" data-element="${other}">`), `${href} links ${other}`);
  }

  await page.getByRole("link", { name: "Nuova iscrizione", exact: true }).click();
  await heading(page, "Nuova iscrizione");
  await accessible(page, "new enrollment");
  // The browser's own checks: a wrong check character, no privacy.
  await page.getByLabel(L("Codice fiscale dell’alunno")).fill(`${pupilCode.slice(0, 15)}${pupilCode[15] === "A" ? "B" : "A"}`);
  await page.getByRole("button", { name: "Prosegui" }).click();
  const cfError = page.locator("#f-pupil-fiscal_code-err");
  await assert.doesNotReject(cfError.getByText("Codice fiscale non valido").waitFor());
  assert.equal(await page.getByLabel(L("Codice fiscale dell’alunno")).getAttribute("aria-invalid"), "true");
  await accessible(page, "new enrollment, field errors");
  await shot(page, "parent-02-field-errors");

  await page.getByLabel(L("Codice fiscale dell’alunno")).fill(pupilCode.toLowerCase());
  await tick(page, "Ho letto l’informativa");
  await page.getByRole("button", { name: "Prosegui" }).click();
  await page.getByLabel(L("Email")).fill(parentEmail);
  await page.getByRole("button", { name: "Invia email" }).click();
  await page.getByLabel(L("Codice di sicurezza")).waitFor();
  await accessible(page, "email code");
  await shot(page, "parent-03-email-code");
  // A wrong code first: the API's answer with the attempts left.
  const code = await latestCode(stack.base, parentEmail);
  await page.getByLabel(L("Codice di sicurezza")).fill(code === "000000" ? "111111" : "000000");
  await page.getByRole("button", { name: "Conferma" }).click();
  await page.locator("#f-code-err").getByText("Tentativi rimasti: 4").waitFor();
  await page.getByLabel(L("Codice di sicurezza")).fill(code);
  await page.getByRole("button", { name: "Conferma" }).click();

  // Step 1: the pupil (the fiscal code and birth date are already there).
  await heading(page, "Domanda d’iscrizione");
  assert.equal(await page.getByLabel(L("Codice fiscale dell’alunno")).inputValue(), pupilCode);
  assert.equal(await page.getByLabel(L("Data di nascita")).inputValue(), "2018-03-14");
  await page.getByLabel(L("Nome dell’alunno")).fill("Maria");
  await page.getByLabel(L("Cognome dell’alunno")).fill("Rossi");
  await page.getByLabel(L("Scuola frequentata")).selectOption("Primaria G. Mazzini");
  await page.getByLabel(L("Classe")).selectOption("3");
  await page.getByLabel(L("Sezione")).fill("B");
  await accessible(page, "step 1");
  await shot(page, "parent-04-step-pupil");
  // "Salva bozza" before the guardian's names: the API says what is missing.
  await page.getByRole("button", { name: "Salva bozza" }).click();
  const summary = page.getByRole("alert").filter({ hasText: "Codice fiscale del genitore" });
  await summary.waitFor();
  await accessible(page, "step 1, draft incomplete");
  await page.getByRole("button", { name: "Avanti" }).click();

  // Step 2: the guardian; a province the API does not know.
  await heading(page, "Domanda d’iscrizione");
  await page.getByRole("heading", { name: "2. Genitore" }).waitFor();
  assert.equal(await page.getByLabel(L("Email")).inputValue(), parentEmail);
  await page.getByLabel(L("Codice fiscale del genitore")).fill(guardianCode);
  await page.getByLabel(L("Nome del genitore")).fill("Anna");
  await page.getByLabel(L("Cognome del genitore")).fill("Bianchi");
  await page.getByLabel(L("Relazione con l’alunno")).selectOption("madre");
  await page.getByLabel(L("Cellulare o telefono")).fill("333 123 4567");
  await page.getByLabel(L("Indirizzo di residenza")).fill("Via Roma 1");
  await page.getByLabel(L("Comune di residenza")).fill("Corato");
  await page.getByLabel(L("CAP")).fill("7003");
  await page.getByLabel(L("Provincia (sigla)")).fill("XX");
  await page.getByRole("button", { name: "Salva bozza" }).click();
  // The first save: the API checks every field it was given.
  await page.locator("#f-guardian-address-province-err").filter({ hasText: /\S/ }).waitFor();
  assert.equal(await page.getByLabel(L("Provincia (sigla)")).getAttribute("aria-invalid"), "true");
  await page.getByLabel(L("CAP")).fill("70033");
  await page.getByLabel(L("CAP")).blur();
  assert.match(await page.locator("#f-guardian-address-postal_code-err").innerText(), /^$/);
  await accessible(page, "step 2, API field errors");
  await shot(page, "parent-05-step-guardian-errors");
  await page.getByLabel(L("Provincia (sigla)")).fill("BA");
  await page.getByRole("button", { name: "Salva bozza" }).click();
  await page.getByRole("status").filter({ hasText: "Bozza salvata" }).waitFor();
  assert.match(page.url(), /\/demo\/domande\/app-[^/]+\/passo\/2$/);
  const appId = page.url().match(/domande\/(app-[^/]+)\//)[1];
  await accessible(page, "step 2, draft saved");
  await shot(page, "parent-06-draft-saved");
  const password = await temporaryPassword(stack.base, parentEmail);
  await page.getByRole("button", { name: "Avanti" }).click();

  // Step 3: the service.
  await page.getByRole("heading", { name: "3. Servizio" }).waitFor();
  await tick(page, "Dieta etico-religiosa");
  await page.getByLabel(L("Note sulla dieta")).fill("Senza carne di maiale");
  await tick(page, "Venerdì", false);
  await accessible(page, "step 3");
  await page.getByRole("button", { name: "Avanti" }).click();

  // Step 4: ISEE with its attestation, uploaded straight to storage.
  await page.getByRole("heading", { name: "4. ISEE e allegati" }).waitFor();
  await tick(page, "Sì, presento l’ISEE");
  await page.getByLabel(L("Valore ISEE in euro")).fill("12500,00");
  await page.getByLabel(L("Attestazione ISEE")).setInputFiles({ name: "isee.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.4\n% test attestation\n%%EOF\n") });
  await page.getByText("File caricato: isee.pdf.").waitFor();
  await accessible(page, "step 4, attachment uploaded");
  await shot(page, "parent-07-step-isee");
  await page.getByRole("button", { name: "Avanti" }).click();

  // Step 5: declarations, then the summary.
  await page.getByRole("heading", { name: "5. Dichiarazioni e privacy" }).waitFor();
  await tick(page, "Accetto il regolamento");
  await tick(page, "Dichiaro che i dati sono veri");
  await accessible(page, "step 5");
  await page.getByRole("button", { name: "Vai al riepilogo" }).click();

  await heading(page, "Riepilogo della domanda");
  await page.getByText("Maria Rossi").waitFor();
  await page.getByText("12.500,00 €").waitFor();
  await accessible(page, "summary");
  await shot(page, "parent-08-summary");
  await page.getByRole("button", { name: "Invia iscrizione" }).click();

  await heading(page, "Domanda di Maria Rossi");
  await page.getByText("Iscrizione inviata").waitFor();
  const box = page.getByRole("region", { name: "Stato iscrizione" });
  await box.getByText("Inviata").first().waitFor();
  const userCode = (await box.locator("dd").nth(4).innerText()).trim();
  assert.match(userCode, /^\d{8}$/);
  await box.getByText("B: 3,50 € a pasto").waitFor();
  await page.getByRole("link", { name: /Scarica Lettera credenziali/ }).waitFor();
  assert.equal(await page.getByRole("link", { name: /Scarica/ }).count(), 3);
  await accessible(page, "status after submission");
  await shot(page, "parent-09-submitted");
  const letters = (await outbox(stack.base)).filter((m) => m.to.includes(parentEmail) && m.attachments.length);
  assert.equal(letters.length, 1, "one credentials letter");

  // Another tab changes the application; this tab's edit is not lost.
  await page.getByRole("link", { name: "Modifica iscrizione" }).click();
  await page.getByRole("heading", { name: "1. Alunno" }).waitFor();
  const current = await apiAs(page, "GET", `/applications/${appId}`);
  const other = structuredClone(current.data);
  const body = { window_id: other.window_id, kind: other.kind, pupil: { ...other.pupil, section: "C" }, guardian: other.guardian, service: other.service, isee: other.isee, declarations: other.declarations };
  const put = await apiAs(page, "PUT", `/applications/${appId}`, body, { "If-Match": current.etag });
  assert.equal(put.status, 200);
  await page.getByLabel(L("Scuola frequentata")).selectOption("Primaria A. Moro");
  await page.getByRole("button", { name: "Salva bozza" }).click();
  await page.getByText("La domanda è stata modificata in un’altra scheda").waitFor();
  assert.equal(await page.getByLabel(L("Scuola frequentata")).inputValue(), "Primaria A. Moro");
  await accessible(page, "version conflict");
  await shot(page, "parent-10-version-conflict");
  await page.getByRole("button", { name: "Salva i miei dati sopra l’altra versione" }).click();
  await page.getByRole("status").filter({ hasText: "Bozza salvata" }).waitFor();
  const after1 = await apiAs(page, "GET", `/applications/${appId}`);
  assert.equal(after1.data.pupil.school, "Primaria A. Moro");
  assert.equal(after1.data.status, "submitted");

  // The session expires while the parent types: nothing typed is lost.
  await page.getByLabel(L("Sezione")).fill("D");
  await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem("demo:session"));
    s.token = "scaduto";
    sessionStorage.setItem("demo:session", JSON.stringify(s));
  });
  await page.getByRole("button", { name: "Salva bozza" }).click();
  await heading(page, "Accedi");
  await page.getByText("La sessione è scaduta").waitFor();
  await accessible(page, "session expired");
  await shot(page, "parent-11-session-expired");
  await page.getByRole("link", { name: "Codice fiscale dell’alunno e password" }).click();
  await heading(page, "Riprendi una domanda");
  await page.getByLabel(L("Codice fiscale dell’alunno")).fill(pupilCode);
  await page.getByLabel(L("Password")).fill("sbagliata-123");
  await page.getByRole("button", { name: "Accedi" }).click();
  await page.getByRole("alert").filter({ hasText: /./ }).waitFor();
  await accessible(page, "password login, wrong password");
  await page.getByLabel(L("Password")).fill(password);
  await page.getByRole("button", { name: "Accedi" }).click();
  await heading(page, "Scegli una password personale");
  await page.getByLabel(L("Nuova password")).fill("corto1");
  await page.getByLabel(L("Ripeti la nuova password")).fill("corto1");
  await page.getByRole("button", { name: "Salva la nuova password" }).click();
  await page.locator("#f-new-err").filter({ hasText: "almeno 10 caratteri" }).waitFor();
  await accessible(page, "forced password change, weak");
  await shot(page, "parent-12-password-change");
  await page.getByLabel(L("Nuova password")).fill(remember("Mensa-Scuola-2026"));
  await page.getByLabel(L("Ripeti la nuova password")).fill("Mensa-Scuola-2026");
  await page.getByRole("button", { name: "Salva la nuova password" }).click();
  // Back where the session expired, with what was typed.
  await page.getByRole("heading", { name: "1. Alunno" }).waitFor();
  assert.equal(await page.getByLabel(L("Sezione")).inputValue(), "D");
  await page.getByRole("button", { name: "Salva bozza" }).click();
  await page.getByRole("status").filter({ hasText: "Bozza salvata" }).waitFor();
  assert.equal((await apiAs(page, "GET", `/applications/${appId}`)).data.pupil.section, "D");

  // "Le mie domande"; then the other parent enrolls the same pupil: a duplicate.
  await page.getByRole("link", { name: "Le mie domande" }).click();
  await heading(page, "Le mie domande");
  await page.getByRole("link", { name: "Apri la domanda di Maria Rossi" }).waitFor();
  await accessible(page, "my applications");
  await page.getByRole("button", { name: "Esci" }).click();
  await heading(page, "Iscrizioni ai servizi scolastici");
  await page.getByRole("link", { name: "Nuova iscrizione", exact: true }).click();
  await page.getByLabel(L("Codice fiscale dell’alunno")).fill(pupilCode);
  await tick(page, "Ho letto l’informativa");
  await page.getByRole("button", { name: "Prosegui" }).click();
  const otherEmail = email("paolo");
  await page.getByLabel(L("Email")).fill(otherEmail);
  await page.getByRole("button", { name: "Invia email" }).click();
  await page.getByLabel(L("Codice di sicurezza")).fill(await latestCode(stack.base, otherEmail));
  await page.getByRole("button", { name: "Conferma" }).click();
  await page.getByRole("heading", { name: "1. Alunno" }).waitFor();
  await page.getByLabel(L("Nome dell’alunno")).fill("Maria");
  await page.getByLabel(L("Cognome dell’alunno")).fill("Rossi");
  await page.getByRole("button", { name: "Avanti" }).click();
  await page.getByLabel(L("Codice fiscale del genitore")).fill(guardianCode);
  await page.getByLabel(L("Nome del genitore")).fill("Anna");
  await page.getByLabel(L("Cognome del genitore")).fill("Bianchi");
  await page.getByRole("button", { name: "Salva bozza" }).click();
  await page.getByRole("alert").filter({ hasText: "codice fiscale e password" }).waitFor();
  await accessible(page, "duplicate pupil");
  await shot(page, "parent-13-duplicate-pupil");
}

test("where the comune requires it, the parent proves the mobile by SMS before sending", async () => {
  const page = await newPage(browser, PHONE, errors);
  try {
    const phone = mobile();
    const written = `${phone.slice(3, 6)} ${phone.slice(6, 9)} ${phone.slice(9)}`;
    const draft = await completeDraft(stack.base, "sms", { tenant: "demo-sms", phone: written });
    await page.goto(`${stack.base}/demo-sms/`);
    await heading(page, "Iscrizioni ai servizi scolastici");
    await page.evaluate((s) => sessionStorage.setItem("demo-sms:session", JSON.stringify(s)), { token: draft.token, session: draft.session.session });
    await page.goto(`${stack.base}/demo-sms/domande/${draft.id}/riepilogo`);
    await heading(page, "Riepilogo della domanda");
    const step = page.getByRole("region", { name: "Verifica il numero di cellulare" });
    await step.waitFor();
    assert.equal(await step.getByLabel(L("Numero di cellulare")).inputValue(), written);
    await accessible(page, "summary, phone to verify");
    // Sending first: the API says the phone is not verified.
    await page.getByRole("button", { name: "Invia iscrizione" }).click();
    await page.getByRole("alert").filter({ hasText: "Verifica il numero di cellulare" }).waitFor();
    await accessible(page, "summary, phone not verified");
    await shot(page, "parent-14-phone-not-verified");
    // A landline cannot receive the code.
    await step.getByLabel(L("Numero di cellulare")).fill("06 1234567");
    await step.getByRole("button", { name: "Invia SMS" }).click();
    await page.locator("#f-phone-err").filter({ hasText: "rete fissa" }).waitFor();
    await step.getByLabel(L("Numero di cellulare")).fill(written);
    await step.getByRole("button", { name: "Invia SMS" }).click();
    await step.getByLabel(L("Codice di sicurezza")).waitFor();
    const code = await latestSmsCode(stack.base, phone);
    const sms = (await smsOutbox(stack.base)).filter((m) => m.to === phone);
    assert.equal(sms.length, 1);
    assert.match(sms[0].text, /Comune di Esempio/);
    await step.getByLabel(L("Codice di sicurezza")).fill(code === "000000" ? "111111" : "000000");
    await step.getByRole("button", { name: "Conferma" }).click();
    await page.locator("#f-code-err").getByText("Tentativi rimasti: 4").waitFor();
    await accessible(page, "summary, wrong SMS code");
    await shot(page, "parent-15-phone-code");
    await step.getByLabel(L("Codice di sicurezza")).fill(code);
    await step.getByRole("button", { name: "Conferma" }).click();
    await page.getByText("Numero di cellulare verificato").waitFor();
    assert.equal(await page.getByRole("region", { name: "Verifica il numero di cellulare" }).count(), 0);
    await accessible(page, "summary, phone verified");
    await page.getByRole("button", { name: "Invia iscrizione" }).click();
    await heading(page, /^Domanda di Maria/);
    await page.getByText("Iscrizione inviata").waitFor();
    await shot(page, "parent-16-phone-submitted");
  } catch (e) {
    await shot(page, "parent-sms-FAILED");
    throw e;
  }
  assert.deepEqual(errors, []);
});

/** From the home page to step 3 of a new application in `windowName`, by clicking. */
async function startIn(page, windowName, tag) {
  const parentEmail = email(tag);
  const guardianCode = fiscalCode("1984-02-11", false);
  await page.goto(`${stack.base}/demo/`);
  await page.getByRole("link", { name: "Nuova iscrizione", exact: true }).click();
  await heading(page, "Nuova iscrizione");
  await page.getByLabel(L("Servizio e anno scolastico")).selectOption({ label: windowName });
  await page.getByLabel(L("Codice fiscale dell’alunno")).fill(fiscalCode("2017-09-03", false));
  await tick(page, "Ho letto l’informativa");
  await page.getByRole("button", { name: "Prosegui" }).click();
  await page.getByLabel(L("Email")).fill(parentEmail);
  await page.getByRole("button", { name: "Invia email" }).click();
  await page.getByLabel(L("Codice di sicurezza")).fill(await latestCode(stack.base, parentEmail));
  await page.getByRole("button", { name: "Conferma" }).click();
  await page.getByRole("heading", { name: "1. Alunno" }).waitFor();
  await page.getByLabel(L("Nome dell’alunno")).fill("Luca");
  await page.getByLabel(L("Cognome dell’alunno")).fill("Greco");
  await page.getByLabel(L("Scuola frequentata")).selectOption("Primaria G. Mazzini");
  await page.getByLabel(L("Classe")).selectOption("2");
  await page.getByRole("button", { name: "Avanti" }).click();
  await page.getByRole("heading", { name: "2. Genitore" }).waitFor();
  await page.getByLabel(L("Codice fiscale del genitore")).fill(guardianCode);
  await page.getByLabel(L("Nome del genitore")).fill("Marco");
  await page.getByLabel(L("Cognome del genitore")).fill("Greco");
  await page.getByLabel(L("Relazione con l’alunno")).selectOption("padre");
  await page.getByLabel(L("Cellulare o telefono")).fill("+44 7911 123456");
  await page.getByLabel(L("Indirizzo di residenza")).fill("Via Bari 3");
  await page.getByLabel(L("Comune di residenza")).fill("Corato");
  await page.getByLabel(L("CAP")).fill("70033");
  await page.getByLabel(L("Provincia (sigla)")).fill("BA");
  await page.getByRole("button", { name: "Avanti" }).click();
  await page.getByRole("heading", { name: "3. Servizio" }).waitFor();
  return parentEmail;
}

/** Steps 4 and 5, the summary (checked by `expect`), "Invia iscrizione". */
async function finish(page, label, expect) {
  await page.getByRole("button", { name: "Avanti" }).click();
  await page.getByRole("heading", { name: "4. ISEE e allegati" }).waitFor();
  await page.getByRole("button", { name: "Avanti" }).click();
  await page.getByRole("heading", { name: "5. Dichiarazioni e privacy" }).waitFor();
  await tick(page, "Accetto il regolamento");
  await tick(page, "Dichiaro che i dati sono veri");
  await page.getByRole("button", { name: "Vai al riepilogo" }).click();
  await heading(page, "Riepilogo della domanda");
  for (const text of expect) await page.getByText(text).first().waitFor();
  assert.equal(await page.getByText("Dieta").count(), 0, "no meal question on this service");
  await accessible(page, `${label} summary`);
  await shot(page, `parent-${label}-summary`);
  await page.getByRole("button", { name: "Invia iscrizione" }).click();
  await page.getByText("Iscrizione inviata").waitFor();
  await accessible(page, `${label} submitted`);
}

test("a family enrolls a child on the school bus, by clicking", async () => {
  const page = await newPage(browser, PHONE, errors);
  try {
    await startIn(page, "Trasporto scolastico 2026/2027", "bus");
    assert.equal(await page.getByText("Dieta").count(), 0);
    await page.getByLabel(L("Fermata")).selectOption({ label: "Via Bari, chiesa di San Giuseppe – Linea 1" });
    await tick(page, "Solo ritorno");
    await tick(page, "Lo accoglie un genitore o una persona delegata");
    await page.getByRole("button", { name: "Aggiungi una persona delegata" }).click();
    const first = page.getByRole("group", { name: "Persona delegata 1" });
    await first.getByLabel(L("Nome")).fill("Lucia");
    await first.getByLabel(L("Cognome")).fill("Greco");
    await first.getByLabel(L("Codice fiscale")).fill(fiscalCode("1950-01-01", true));
    await first.getByLabel(L("Relazione con l’alunno")).fill("nonna");
    await page.getByRole("button", { name: "Aggiungi una persona delegata" }).click();
    await accessible(page, "bus step, two delegates");
    await page.getByRole("button", { name: "Rimuovi la persona delegata 2" }).click();
    assert.equal(await page.getByRole("group", { name: /^Persona delegata/ }).count(), 1);
    await shot(page, "parent-bus-step");
    await finish(page, "bus", ["Via Bari, chiesa di San Giuseppe – Linea 1", "Solo ritorno", "Lucia Greco (nonna)"]);
  } catch (e) {
    await shot(page, "parent-bus-FAILED");
    throw e;
  }
  assert.deepEqual(errors, []);
});

test("a family enrolls a child in pre and post school care, by clicking", async () => {
  const page = await newPage(browser, PHONE, errors);
  try {
    await startIn(page, "Pre e post scuola 2026/2027", "care");
    await tick(page, "Pre scuola 7:30–8:30");
    await tick(page, "Post scuola 13:30–16:30");
    const exit = page.getByRole("group", { name: /All’uscita dal post scuola/ });
    await exit.waitFor();
    await tick(page, "Autorizzo mio figlio o mia figlia a uscire da solo");
    assert.equal(await page.getByRole("button", { name: "Aggiungi una persona delegata" }).isVisible(), false);
    await tick(page, "Entrambi i genitori (o l'unico genitore) lavorano");
    await accessible(page, "care step");
    await shot(page, "parent-care-step");
    await finish(page, "care", ["Pre scuola 7:30–8:30, Post scuola 13:30–16:30", "esce da solo al termine del post scuola", "Entrambi i genitori (o l'unico genitore) lavorano"]);
    // A window with places ranked by points: the status box says where.
    await page.getByText(/^1 su 20 posti \(3 punti\): entro i posti disponibili$/).waitFor();
    // "Rinuncia", confirmed in a second step.
    await page.getByRole("button", { name: "Rinuncia all’iscrizione" }).click();
    const dialog = page.getByRole("alertdialog", { name: "Vuoi davvero rinunciare a questa domanda?" });
    await dialog.waitFor();
    await accessible(page, "withdrawal confirmation");
    await shot(page, "parent-care-withdraw-confirm");
    await dialog.getByRole("button", { name: "No, torna indietro" }).click();
    assert.equal(await dialog.count(), 0);
    await page.getByRole("button", { name: "Rinuncia all’iscrizione" }).click();
    await dialog.getByRole("button", { name: "Sì, rinuncio" }).click();
    await page.getByText("Rinuncia registrata").waitFor();
    await page.getByRole("region", { name: "Stato iscrizione" }).getByText("Ritirata").first().waitFor();
    assert.equal(await page.getByRole("button", { name: "Rinuncia all’iscrizione" }).count(), 0);
    await accessible(page, "withdrawn");
    await shot(page, "parent-care-withdrawn");
  } catch (e) {
    await shot(page, "parent-care-FAILED");
    throw e;
  }
  assert.deepEqual(errors, []);
});

test("the static pages (home, privacy, accessibility, legal notes) pass axe, with no CSP error", async () => {
  const page = await newPage(browser, PHONE, errors);
  for (const path of ["/", "/privacy.html", "/dichiarazione-accessibilita.html", "/note-legali.html"]) {
    await page.goto(`${stack.base}${path}`);
    await page.getByRole("heading", { level: 1 }).waitFor();
    assert.ok(await page.evaluate(async () => (await document.fonts.ready, [...document.fonts].some((f) => f.status === "loaded"))), `fonts on ${path}`);
    await accessible(page, `static ${path}`);
  }
  assert.deepEqual(errors, []);
});
