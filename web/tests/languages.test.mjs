// The portal in the families' languages, in a real browser: the switcher
// (keyboard, the choice kept across a reload and a new tab), the parent's
// journey in English and in Arabic (right to left) with axe-core on every
// state, the official declarations shown in Italian with their
// translation, Accept-Language on every API call and `language` in every
// application sent; then two children enrolled with "Aggiungi un altro
// figlio" and sent together with "Invia tutte". The texts looked for are
// the catalogues' (web/dist/_assets/i18n, the Italian key where a
// translation is still missing), so the test holds while translators fill
// the catalogues; once a catalogue is complete, no Italian text of the
// portal may show in its language (outside the binding Italian wording).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startStack, launch, newPage, PHONE, DESKTOP, accessible, shot, latestCode, fiscalCode, email, root } from "./support.mjs";
import { extractKeys } from "../scripts/i18n-keys.mjs";

let stack;
let browser;
const errors = [];

before(async () => {
  stack = await startStack("languages");
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

const NAMES = { it: "Italiano", en: "English", ar: "العربية", ro: "Română", uk: "Українська", sq: "Shqip" };
const catalogues = {};
/** The catalogue the portal serves for `lang`. */
function catalogue(lang) {
  if (lang === "it") return {};
  catalogues[lang] ??= JSON.parse(readFileSync(join(root, "web", "dist", "_assets", "i18n", `${lang}.json`), "utf8"));
  return catalogues[lang];
}
/** A text as the portal shows it in `lang` (i18n.js's t(): values isolated in right-to-left text). */
function tr(lang, key, params = {}) {
  const text = catalogue(lang)[key] || key;
  const isolate = lang === "ar";
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? (isolate ? `\u2068${params[name]}\u2069` : String(params[name])) : whole));
}

const { keys } = extractKeys();
/** Whether every key of the portal has a translation in `lang`'s catalogue. */
const complete = (lang) => [...keys.keys()].every((k) => typeof catalogue(lang)[k] === "string" && catalogue(lang)[k].trim() !== "");

/**
 * Once `lang`'s catalogue is complete, no text of the page is one of the
 * portal's Italian texts that has a different translation, except inside
 * an element marked lang="it" (the binding Italian wording).
 */
async function noItalianLeft(page, lang, label) {
  if (lang === "it" || !complete(lang)) return;
  const italian = [...keys.keys()].filter((k) => !/\{\w+\}/.test(k) && catalogue(lang)[k] !== k);
  const found = await page.evaluate((italianTexts) => {
    const set = new Set(italianTexts);
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.textContent.replace(/\s+/g, " ").trim();
      if (!text || !set.has(text)) continue;
      if (n.parentElement.closest("[lang='it'], script, style, noscript")) continue;
      out.push(text);
    }
    return out;
  }, italian);
  assert.deepEqual(found, [], `${label}: Italian texts left in ${lang}`);
}

/** axe, the Italian check, and a screenshot, for one state of the page. */
async function check(page, lang, label) {
  await accessible(page, `${lang}: ${label}`);
  await noItalianLeft(page, lang, label);
  await shot(page, `lang-${lang}-${label}`);
}

async function heading(page, text) {
  await page.getByRole("heading", { level: 1, name: text }).waitFor();
}

/** Tick a check or radio by clicking its label, as a person does. */
async function tickId(page, id, on = true) {
  const input = page.locator(`#${id}`);
  if ((await input.isChecked()) !== on) await page.locator(`label[for="${id}"]`).click();
  assert.equal(await input.isChecked(), on, id);
}

/** Every API request of the page, with its Accept-Language and body. */
function recordApi(page) {
  const seen = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname.startsWith("/v1/")) seen.push({ method: r.method(), path: new URL(r.url()).pathname, lang: r.headers()["accept-language"], body: r.postData() });
  });
  return seen;
}

/** The switcher: a navigation landmark with a link per language, each in its own language. */
async function switcherLinks(page, lang) {
  const nav = page.getByRole("navigation", { name: tr(lang, "Lingua / Language") });
  await nav.waitFor();
  for (const [code, name] of Object.entries(NAMES)) {
    const a = nav.getByRole("link", { name, exact: true });
    assert.equal(await a.getAttribute("lang"), code);
    assert.equal(await a.getAttribute("hreflang"), code);
    assert.equal(await a.getAttribute("aria-current"), code === lang ? "true" : null, `${code} current in ${lang}`);
  }
  return nav;
}

/** From the portal's home page to the summary of a complete new application; returns what was typed. */
async function newApplication(page, lang, { pupil = fiscalCode("2018-03-14", true), guardian = fiscalCode("1985-06-20", false), parentEmail = email(`lang-${lang}`), first = "Maria", checks = false } = {}) {
  const T = (key, params) => tr(lang, key, params);
  await page.getByRole("link", { name: T("Nuova iscrizione"), exact: true }).click();
  await heading(page, T("Nuova iscrizione"));
  await page.locator("#f-pupil-fiscal_code").fill(pupil);
  assert.equal(await page.locator("#f-pupil-fiscal_code").getAttribute("dir"), "ltr", "a fiscal code stays left to right");
  await tickId(page, "f-declarations-privacy");
  if (checks) await check(page, lang, "start");
  await page.getByRole("button", { name: T("Prosegui") }).click();
  await page.locator("#f-email").fill(parentEmail);
  await page.getByRole("button", { name: T("Invia email") }).click();
  await page.locator("#f-code").waitFor({ state: "visible" });
  if (checks) await check(page, lang, "email-code");
  await page.locator("#f-code").fill(await latestCode(stack.base, parentEmail));
  await page.getByRole("button", { name: T("Conferma") }).click();

  await heading(page, T("Domanda d’iscrizione"));
  await page.getByText(T("Passo {step} di {total}", { step: 1, total: 5 })).waitFor();
  await page.locator("#f-pupil-first_name").fill(first);
  await page.locator("#f-pupil-last_name").fill("Rossi");
  await page.locator("#f-pupil-school").selectOption("Primaria G. Mazzini");
  await page.locator("#f-pupil-grade").selectOption("3");
  if (checks) await check(page, lang, "form");
  await page.getByRole("button", { name: T("Avanti") }).click();
  await page.getByText(T("Passo {step} di {total}", { step: 2, total: 5 })).waitFor();
  await page.locator("#f-guardian-fiscal_code").fill(guardian);
  await page.locator("#f-guardian-first_name").fill("Anna");
  await page.locator("#f-guardian-last_name").fill("Rossi");
  await page.locator("#f-guardian-relationship").selectOption("madre");
  await page.locator("#f-guardian-phone").fill("333 123 4567");
  await page.locator("#f-guardian-address-street").fill("Via Roma 1");
  await page.locator("#f-guardian-address-city").fill("Corato");
  await page.locator("#f-guardian-address-postal_code").fill("70033");
  await page.locator("#f-guardian-address-province").fill("BA");
  for (const id of ["f-guardian-email", "f-guardian-phone", "f-guardian-fiscal_code"]) assert.equal(await page.locator(`#${id}`).getAttribute("dir"), "ltr", id);
  await page.getByRole("button", { name: T("Salva bozza") }).click();
  await page.getByRole("status").filter({ hasText: T("Bozza salvata.") }).waitFor();
  if (checks) await check(page, lang, "draft-saved");
  await page.getByRole("button", { name: T("Avanti") }).click();
  await page.getByText(T("Passo {step} di {total}", { step: 3, total: 5 })).waitFor();
  await page.getByRole("button", { name: T("Avanti") }).click();
  await page.getByText(T("Passo {step} di {total}", { step: 4, total: 5 })).waitFor();
  await page.getByRole("button", { name: T("Avanti") }).click();
  await page.getByText(T("Passo {step} di {total}", { step: 5, total: 5 })).waitFor();
  await tickId(page, "f-declarations-regulation");
  await tickId(page, "f-declarations-truthfulness");
  // The self-certification: the binding Italian text, with its translation where there is one.
  const truth = "Dichiaro che i dati sono veri, consapevole delle sanzioni dell’art. 76 del DPR 445/2000";
  const truthLabel = page.locator('label[for="f-declarations-truthfulness"]');
  assert.ok((await truthLabel.innerText()).includes(truth), "the Italian text of the declaration is shown");
  if (T(truth) !== truth) {
    assert.equal(await truthLabel.locator("[lang=it]").innerText(), truth);
    assert.equal(await truthLabel.locator(`[lang=${lang}]`).innerText(), T(truth));
    await page.getByText(T("Il testo in italiano è quello vincolante; la traduzione aiuta a leggerlo.")).waitFor();
  }
  if (checks) await check(page, lang, "declarations");
  await page.getByRole("button", { name: T("Vai al riepilogo") }).click();
  await heading(page, T("Riepilogo della domanda"));
  await page.getByText(`${first} Rossi`).first().waitFor();
  if (checks) await check(page, lang, "summary");
  return { pupil, guardian, parentEmail, name: `${first} Rossi` };
}

/** "Invia iscrizione" on the summary; the user code from the status page. */
async function submit(page, lang, name, checks = false) {
  const T = (key, params) => tr(lang, key, params);
  await page.getByRole("button", { name: T("Invia iscrizione") }).click();
  await heading(page, T("Domanda di {name}", { name }));
  await page.getByText(T("Iscrizione inviata. Ti abbiamo inviato per email la lettera con il codice utente.")).waitFor();
  const userCode = (await page.locator(".status-box .user-code").innerText()).trim();
  assert.match(userCode, /^\d{8}$/);
  if (checks) await check(page, lang, "submitted");
  return userCode;
}

test("the switcher: English by keyboard, kept after a reload and in a new tab; the journey in English", async () => {
  const page = await newPage(browser, PHONE, errors);
  try {
    await page.goto(`${stack.base}/demo/`);
    await heading(page, "Iscrizioni ai servizi scolastici");
    const nav = await switcherLinks(page, "it");
    await accessible(page, "it: home with the switcher");
    // With the keyboard: the link takes the focus and Enter follows it.
    await nav.getByRole("link", { name: "English" }).focus();
    await page.keyboard.press("Enter");
    await heading(page, tr("en", "Iscrizioni ai servizi scolastici"));
    assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
    assert.equal(await page.evaluate(() => document.documentElement.dir), "ltr");
    assert.equal(await page.evaluate(() => localStorage.getItem("lang")), "en");
    await switcherLinks(page, "en");
    await check(page, "en", "home");

    // The choice stays: a reload, and another tab of the same browser.
    await page.reload();
    await heading(page, tr("en", "Iscrizioni ai servizi scolastici"));
    assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
    const other = await page.context().newPage();
    await other.goto(`${stack.base}/privacy.html`);
    await other.getByRole("heading", { level: 1, name: tr("en", "Informativa sul trattamento dei dati personali") }).waitFor();
    assert.equal(await other.evaluate(() => document.documentElement.lang), "en");
    await other.close();

    // Every API call asks for English; every application sent says English.
    const seen = recordApi(page);
    const typed = await newApplication(page, "en", { checks: true });
    await submit(page, "en", typed.name, true);
    assert.ok(seen.length > 5, "API calls recorded");
    assert.deepEqual(seen.filter((r) => r.lang !== "en").map((r) => `${r.method} ${r.path} ${r.lang}`), [], "Accept-Language: en on every API call");
    const sent = seen.filter((r) => /\/applications(\/app-[^/]+)?$/.test(r.path) && ["POST", "PUT"].includes(r.method));
    assert.ok(sent.length >= 1, "an application was sent");
    for (const r of sent) assert.equal(JSON.parse(r.body).language, "en", `${r.method} ${r.path} carries the language`);
  } catch (e) {
    await shot(page, "lang-en-FAILED");
    throw e;
  }
  assert.deepEqual(errors, []);
});

test("every language: the home page and the privacy notice (Italian text binding, translation beside it) pass axe", async () => {
  const page = await newPage(browser, DESKTOP, errors);
  try {
    for (const lang of Object.keys(NAMES)) {
      await page.goto(`${stack.base}/demo/?lang=${lang}`);
      await heading(page, tr(lang, "Iscrizioni ai servizi scolastici"));
      assert.doesNotMatch(page.url(), /lang=/, "the address loses ?lang= once it is kept");
      assert.equal(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir].join(" ")), `${lang} ${lang === "ar" ? "rtl" : "ltr"}`);
      await switcherLinks(page, lang);
      await check(page, lang, "home");
      await page.goto(`${stack.base}/privacy.html`);
      await page.getByRole("heading", { level: 1, name: tr(lang, "Informativa sul trattamento dei dati personali") }).waitFor();
      await switcherLinks(page, lang);
      const notice = "Ai sensi dell’art. 13 del Regolamento (UE) 2016/679 (GDPR).";
      // The Italian text is always there; in another language, marked as Italian, with the translation after it.
      const italian = page.getByText(notice, { exact: true });
      await italian.waitFor();
      if (tr(lang, notice) !== notice) {
        assert.equal(await italian.getAttribute("lang"), "it");
        await page.locator(`p.legal-translation[lang=${lang}]`).getByText(tr(lang, notice), { exact: true }).waitFor();
        await page.getByText(tr(lang, "Il testo in italiano è quello vincolante; la traduzione aiuta a leggerlo.")).waitFor();
      }
      await check(page, lang, "privacy");
    }
    // Back to Italian from the static page's switcher.
    await page.getByRole("navigation", { name: tr("sq", "Lingua / Language") }).getByRole("link", { name: "Italiano" }).click();
    await page.getByRole("heading", { level: 1, name: "Informativa sul trattamento dei dati personali" }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), "it");
    assert.equal(await page.locator(".legal-translation").count(), 0, "no translation under the Italian text in Italian");
    // The back-office stays in Italian whatever the family chose in this browser.
    await page.goto(`${stack.base}/demo/?lang=ar`);
    await heading(page, tr("ar", "Iscrizioni ai servizi scolastici"));
    await page.goto(`${stack.base}/demo/staff/`);
    await heading(page, "Accesso al back-office");
    assert.equal(await page.evaluate(() => `${document.documentElement.lang} ${document.documentElement.dir || "ltr"}`), "it ltr");
    assert.equal(await page.getByRole("navigation", { name: /Lingua/ }).count(), 0, "no language switcher in the back-office");
  } catch (e) {
    await shot(page, "lang-all-FAILED");
    throw e;
  }
  assert.deepEqual(errors, []);
});

test("Arabic: right to left, chosen on a static page, the journey with axe on every state", async () => {
  const page = await newPage(browser, PHONE, errors);
  try {
    await page.goto(`${stack.base}/note-legali.html`);
    await page.getByRole("heading", { level: 1, name: "Note legali" }).waitFor();
    await page.getByRole("navigation", { name: "Lingua / Language" }).getByRole("link", { name: "العربية" }).click();
    await page.waitForFunction(() => document.documentElement.dir === "rtl");
    assert.equal(await page.evaluate(() => document.documentElement.lang), "ar");
    await check(page, "ar", "legal-notes");
    await page.goto(`${stack.base}/demo/`);
    await heading(page, tr("ar", "Iscrizioni ai servizi scolastici"));
    assert.equal(await page.evaluate(() => document.documentElement.dir), "rtl");
    // The layout is mirrored: the title's text starts on the right, the brand's icon is on the right.
    const edges = await page.evaluate(() => {
      const range = document.createRange();
      range.selectNodeContents(document.querySelector("h1"));
      const text = range.getBoundingClientRect();
      const icon = document.querySelector(".it-brand-wrapper .icon").getBoundingClientRect();
      return { textRight: text.right, textLeft: text.left, iconLeft: icon.left, width: document.documentElement.clientWidth };
    });
    assert.ok(edges.textRight > edges.width - 30, `the title ends on the right: ${JSON.stringify(edges)}`);
    assert.ok(edges.iconLeft > edges.width / 2, `the brand's icon is on the right: ${JSON.stringify(edges)}`);
    const seen = recordApi(page);
    const typed = await newApplication(page, "ar", { checks: true });
    await submit(page, "ar", typed.name, true);
    assert.deepEqual(seen.filter((r) => r.lang !== "ar").map((r) => `${r.method} ${r.path} ${r.lang}`), [], "Accept-Language: ar on every API call");
    // Codes, emails and phones keep their direction in the summary.
    await page.getByRole("link", { name: tr("ar", "Vedi il riepilogo") }).click();
    await heading(page, tr("ar", "Riepilogo della domanda"));
    assert.equal(await page.locator("bdi", { hasText: typed.pupil }).count(), 1, "the pupil's fiscal code in <bdi>");
    assert.equal(await page.locator("bdi", { hasText: typed.parentEmail }).count(), 1, "the email in <bdi>");
    await check(page, "ar", "summary-submitted");
  } catch (e) {
    await shot(page, "lang-ar-FAILED");
    throw e;
  }
  assert.deepEqual(errors, []);
});

test("two children, one guardian: Aggiungi un altro figlio, then Invia tutte, each with its own user code", async () => {
  const lang = "uk";
  const T = (key, params) => tr(lang, key, params);
  const page = await newPage(browser, PHONE, errors);
  try {
    await page.goto(`${stack.base}/demo/?lang=${lang}`);
    await heading(page, T("Iscrizioni ai servizi scolastici"));
    const first = await newApplication(page, lang, { first: "Giulia" });

    // From the first child's summary, the second child: the guardian's part comes along, the pupil's is empty.
    await page.getByRole("link", { name: T("Aggiungi un altro figlio") }).click();
    await heading(page, T("Aggiungi un altro figlio"));
    await page.getByText(T("Genitore, indirizzo e contatti sono ripresi dalla domanda di {name}: tutti i figli sono iscritti con lo stesso genitore. Inserisci ora i dati dell’altro figlio.", { name: first.name })).waitFor();
    await check(page, lang, "sibling-start");
    const secondCode = fiscalCode("2020-09-03", false);
    await page.locator("#f-pupil-fiscal_code").fill(secondCode);
    await tickId(page, "f-declarations-privacy");
    await page.getByRole("button", { name: T("Prosegui") }).click();
    await heading(page, T("Domanda d’iscrizione"));
    assert.equal(await page.locator("#f-pupil-fiscal_code").inputValue(), secondCode);
    assert.equal(await page.locator("#f-pupil-first_name").inputValue(), "", "the pupil's part is empty");
    assert.equal(await page.locator("#f-pupil-birth_date").inputValue(), "2020-09-03");
    await page.locator("#f-pupil-first_name").fill("Luca");
    await page.locator("#f-pupil-last_name").fill("Rossi");
    await page.locator("#f-pupil-school").selectOption("Primaria G. Mazzini");
    await page.locator("#f-pupil-grade").selectOption("1");
    await page.getByRole("button", { name: T("Avanti") }).click();
    await page.getByText(T("Passo {step} di {total}", { step: 2, total: 5 })).waitFor();
    const prefilled = {
      "f-guardian-fiscal_code": first.guardian,
      "f-guardian-first_name": "Anna",
      "f-guardian-last_name": "Rossi",
      "f-guardian-relationship": "madre",
      "f-guardian-email": first.parentEmail,
      "f-guardian-phone": "333 123 4567",
      "f-guardian-address-street": "Via Roma 1",
      "f-guardian-address-city": "Corato",
      "f-guardian-address-postal_code": "70033",
      "f-guardian-address-province": "BA",
    };
    for (const [id, value] of Object.entries(prefilled)) assert.equal(await page.locator(`#${id}`).inputValue(), value, id);
    await check(page, lang, "sibling-guardian");
    for (const step of [3, 4, 5]) {
      await page.getByRole("button", { name: T("Avanti") }).click();
      await page.getByText(T("Passo {step} di {total}", { step, total: 5 })).waitFor();
    }
    await tickId(page, "f-declarations-regulation");
    await tickId(page, "f-declarations-truthfulness");
    await page.getByRole("button", { name: T("Vai al riepilogo") }).click();
    await heading(page, T("Riepilogo della domanda"));
    await page.getByText("Luca Rossi").first().waitFor();

    // A third child whose draft still lacks data: "da completare", with a link.
    const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem("demo:session")).token);
    const third = await fetch(`${stack.base}/v1/demo/applications`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        window_id: "w-refezione-2026",
        kind: "new",
        pupil: { fiscal_code: fiscalCode("2019-01-20", true), first_name: "Sara", last_name: "Rossi", birth_date: null, school: null, grade: null, section: null },
        guardian: { fiscal_code: first.guardian, first_name: "Anna", last_name: "Rossi", relationship: null, email: null, phone: null, address: { street: null, city: null, postal_code: null, province: null } },
        service: { diet: { kind: "none", notes: null }, days: [] },
        isee: null,
        declarations: { privacy: true, regulation: false, truthfulness: false },
      }),
    });
    assert.equal(third.status, 201, await third.text());

    // "Le mie domande": the three children, each with its service, year and status.
    await page.getByRole("navigation", { name: T("Menu principale") }).getByRole("link", { name: T("Le mie domande") }).click();
    await heading(page, T("Le mie domande"));
    for (const name of ["Giulia Rossi", "Luca Rossi", "Sara Rossi"]) {
      const card = page.locator("li.card-window").filter({ has: page.getByRole("heading", { name: new RegExp(`^${name}`) }) });
      await card.getByText(T("Bozza"), { exact: true }).waitFor();
      await card.getByText(T("Refezione scolastica"), { exact: true }).waitFor();
      await card.getByText(T("Anno scolastico {year}", { year: "2026/2027" }), { exact: false }).waitFor();
      await card.getByRole("link", { name: T("Apri la domanda di {name}", { name }) }).waitFor();
    }
    await check(page, lang, "my-applications");
    await page.getByRole("button", { name: T("Invia tutte") }).click();
    const results = page.locator(".send-all-results");
    await results.getByRole("heading", { name: T("Esito dell’invio") }).waitFor();
    await results.locator("[data-result=incomplete]").waitFor();
    assert.equal(await results.getAttribute("aria-live"), "polite");
    const submitted = results.locator("[data-result=submitted]");
    assert.equal(await submitted.count(), 2, await results.innerText());
    const codes = [];
    for (const name of [first.name, "Luca Rossi"]) {
      const row = submitted.filter({ hasText: name });
      const m = (await row.innerText()).match(/\b(\d{8})\b/);
      assert.ok(m, `a user code for ${name}: ${await row.innerText()}`);
      codes.push(m[1]);
    }
    assert.notEqual(codes[0], codes[1], "each child has its own user code");
    const incomplete = results.locator("[data-result=incomplete]");
    assert.equal(await incomplete.count(), 1);
    await incomplete.getByText(T("da completare"), { exact: true }).waitFor();
    await incomplete.getByRole("link", { name: T("Completa la domanda di {name}", { name: "Sara Rossi" }) }).waitFor();
    await page.locator("li.card-window").filter({ hasText: "Luca Rossi" }).getByText(T("Inviata"), { exact: true }).waitFor();
    await check(page, lang, "send-all");

    // Through the API: two submitted applications, one guardian, the codes shown.
    const { applications } = await (await fetch(`${stack.base}/v1/demo/applications`, { headers: { Authorization: `Bearer ${token}` } })).json();
    const sent = applications.filter((a) => a.status === "submitted");
    assert.equal(sent.length, 2);
    assert.deepEqual(new Set(sent.map((a) => a.guardian.fiscal_code)), new Set([first.guardian]));
    assert.deepEqual(sent.map((a) => a.user_code).sort(), [...codes].sort());
    assert.equal(applications.find((a) => a.pupil.first_name === "Sara").status, "draft");

    // The incomplete one opens where it can be completed.
    await incomplete.getByRole("link", { name: T("Completa la domanda di {name}", { name: "Sara Rossi" }) }).click();
    await heading(page, T("Riepilogo della domanda"));
    await page.getByText(T("Per inviare la domanda mancano:")).waitFor();
  } catch (e) {
    await shot(page, "lang-siblings-FAILED");
    throw e;
  }
  assert.deepEqual(errors, []);
});
