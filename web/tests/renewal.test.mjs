// Renewals in a real browser on a 375-pixel screen: "Entra con SPID / CIE"
// through the local stand-in provider (authorization code with PKCE),
// "Anagrafiche > Rinnova iscrizione" with the email proved on the way, the
// prefilled form (grade moved up, guardian fixed by SPID), the submission
// keeping last year's user code; and a guardian in arrears, who is told why
// and whom to call. axe-core checks every page state.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, launch, newPage, PHONE, accessible, L, tick, shot, latestCode, fiscalCode, email, remember } from "./support.mjs";

let stack;
let browser;
const errors = [];

before(async () => {
  stack = await startStack("renewal");
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Last year's roster line of a family, imported as staff do. */
async function importFamily() {
  const { token } = await (await fetch(`${stack.base}/_local/staff-token`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ tenant: "demo" }) })).json();
  const pupil = fiscalCode("2017-05-10", true);
  const guardian = fiscalCode("1980-01-15", false);
  const userCode = remember(String(10000000 + Math.floor(Math.random() * 89999999)));
  const mail = email("luigi");
  const csv = [
    "user_code,service,pupil_fiscal_code,pupil_first_name,pupil_last_name,pupil_birth_date,school,grade,section,guardian_fiscal_code,guardian_first_name,guardian_last_name,guardian_email,guardian_phone,balance_cents",
    `${userCode},refezione,${pupil},Sofia,Greco,2017-05-10,Primaria G. Mazzini,2,C,${guardian},Luigi,Greco,${mail},+393401234567,500`,
  ].join("\n");
  const r = await fetch(`${stack.base}/v1/demo/staff/roster-imports`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "text/csv" }, body: csv });
  const report = await r.json();
  assert.equal(report.imported, 1, JSON.stringify(report));
  return { userCode, guardian, mail };
}

/** Through the stand-in SPID/CIE provider as `fiscal`. */
async function spidLogin(page, fiscal, given, family) {
  await page.goto(`${stack.base}/demo/`);
  await page.getByRole("link", { name: "Entra con SPID / CIE" }).click();
  await page.getByRole("heading", { name: "Provider SPID/CIE di prova" }).waitFor();
  await page.getByLabel("Codice fiscale", { exact: true }).fill(fiscal);
  await page.getByLabel("Nome", { exact: true }).fill(given);
  await page.getByLabel("Cognome", { exact: true }).fill(family);
  await page.getByRole("button", { name: "Entra" }).click();
  await page.getByRole("heading", { level: 1, name: "Anagrafiche" }).waitFor();
  assert.doesNotMatch(page.url(), /code=|state=/, "the code leaves the address bar");
}

test("a guardian renews with SPID, and one in arrears is told why", async () => {
  const page = await newPage(browser, PHONE, errors);
  try {
    const family = await importFamily();
    await spidLogin(page, family.guardian, "Luigi", "Greco");
    await accessible(page, "renewals");
    await shot(page, "renewal-01-anagrafiche");

    await page.getByRole("button", { name: "Rinnova iscrizione di Sofia Greco" }).click();
    // A SPID session proves its email on the way.
    await page.getByText("serve anche un indirizzo email verificato").waitFor();
    await page.getByLabel(L("Email")).fill(family.mail);
    await page.getByRole("button", { name: "Invia email" }).click();
    await page.getByLabel(L("Codice di sicurezza")).fill(await latestCode(stack.base, family.mail));
    await accessible(page, "renewals, email code");
    await page.getByRole("button", { name: "Conferma" }).click();

    await page.getByRole("heading", { level: 1, name: "Rinnovo dell’iscrizione" }).waitFor();
    assert.equal(await page.getByLabel(L("Classe")).inputValue(), "3", "the grade moves up");
    assert.equal(await page.getByLabel(L("Nome dell’alunno")).inputValue(), "Sofia");
    // Last year's consent does not carry over: the notice comes first.
    await tick(page, "Ho preso visione dell’informativa");
    await accessible(page, "renewal, step 1");
    await shot(page, "renewal-02-prefilled");
    await page.getByRole("button", { name: "Avanti" }).click();
    await page.getByRole("heading", { name: "2. Genitore" }).waitFor();
    assert.equal(await page.getByLabel(L("Codice fiscale del genitore")).inputValue(), family.guardian);
    assert.equal(await page.getByLabel(L("Codice fiscale del genitore")).getAttribute("readonly"), "");
    await page.getByLabel(L("Relazione con l’alunno")).selectOption("padre");
    await page.getByLabel(L("Indirizzo di residenza")).fill("Via Bari 10");
    await page.getByLabel(L("Comune di residenza")).fill("Corato");
    await page.getByLabel(L("CAP")).fill("70033");
    await page.getByLabel(L("Provincia (sigla)")).fill("BA");
    await page.getByRole("button", { name: "Avanti" }).click();
    await page.getByRole("heading", { name: "3. Servizio" }).waitFor();
    await page.getByRole("button", { name: "Avanti" }).click();
    await page.getByRole("heading", { name: "4. ISEE e allegati" }).waitFor();
    await page.getByRole("button", { name: "Avanti" }).click();
    await page.getByRole("heading", { name: "5. Dichiarazioni e privacy" }).waitFor();
    await tick(page, "Ho preso visione dell’informativa");
    await tick(page, "Accetto il regolamento");
    await tick(page, "Dichiaro che i dati sono veri");
    await page.getByRole("button", { name: "Vai al riepilogo" }).click();
    await page.getByRole("heading", { level: 1, name: "Riepilogo della domanda" }).waitFor();
    // Last year's roster has no days: the summary says so and links there.
    assert.equal(await page.getByRole("button", { name: "Invia iscrizione" }).isDisabled(), true);
    await accessible(page, "renewal summary, days missing");
    await shot(page, "renewal-03-summary-missing");
    await page.getByRole("link", { name: "Giorni di frequenza" }).click();
    await page.getByRole("heading", { name: "3. Servizio" }).waitFor();
    for (const day of ["Lunedì", "Martedì", "Mercoledì", "Giovedì", "Venerdì"]) await tick(page, day);
    await page.getByRole("button", { name: "Avanti" }).click();
    await page.getByRole("heading", { name: "4. ISEE e allegati" }).waitFor();
    await page.getByRole("button", { name: "Avanti" }).click();
    await page.getByRole("heading", { name: "5. Dichiarazioni e privacy" }).waitFor();
    await page.getByRole("button", { name: "Vai al riepilogo" }).click();
    await page.getByRole("heading", { level: 1, name: "Riepilogo della domanda" }).waitFor();
    await accessible(page, "renewal summary");
    await page.getByRole("button", { name: "Invia iscrizione" }).click();
    await page.getByRole("heading", { level: 1, name: "Domanda di Sofia Greco" }).waitFor();
    const box = page.getByRole("region", { name: "Stato iscrizione" });
    await box.getByText(family.userCode).waitFor();
    await accessible(page, "renewal submitted");
    await shot(page, "renewal-04-submitted");

    // Paola Ferri owes 42 euro: her son's renewal is blocked, and she is told whom to call.
    await page.getByRole("button", { name: "Esci" }).click();
    await spidLogin(page, "FRRPLA85T60A662Y", "Paola", "Ferri");
    await page.getByRole("heading", { name: "Luca Ferri" }).waitFor();
    await page.getByRole("alert").filter({ hasText: "pagamenti insoluti" }).getByRole("link", { name: "scuola@comune.example.it" }).waitFor();
    assert.equal(await page.getByRole("button", { name: /Rinnova iscrizione/ }).count(), 0);
    await accessible(page, "renewal blocked by arrears");
    await shot(page, "renewal-05-arrears");
  } catch (e) {
    await shot(page, "renewal-FAILED");
    throw e;
  }
  assert.deepEqual(errors, []);
});
