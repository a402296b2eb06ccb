// Full keyboard use, desktop size: a parent goes from the home page to a
// saved draft and an operator confirms an application with Tab, Enter,
// Space and typing only. Every element that takes the focus on the way must
// show a focus ring (an outline or a box shadow that is not transparent,
// measured after its transitions end), and the wanted control must come
// within a bounded number of Tab presses (no trap, nothing unreachable).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, launch, newPage, DESKTOP, accessible, shot, latestCode, fiscalCode, email, submittedApplication } from "./support.mjs";

let stack;
let browser;
const errors = [];

before(async () => {
  stack = await startStack("keyboard");
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The focused element's name and whether a focus ring shows on it (or, for a check or radio, on its label). */
function focused(page) {
  return page.evaluate(async () => {
    const e = document.activeElement;
    if (!e || e === document.body || e === document.documentElement) return { tag: "BODY", name: "", ring: true };
    await Promise.all(e.getAnimations({ subtree: false }).map((a) => a.finished.catch(() => null)));
    const opaque = (color) => {
      const m = color.match(/rgba?\(([^)]*)\)/);
      if (!m) return color !== "transparent";
      const parts = m[1].split(/[\s,/]+/).filter(Boolean);
      return parts.length < 4 || parseFloat(parts[3]) > 0;
    };
    const ring = (el, pseudo) => {
      const cs = getComputedStyle(el, pseudo);
      if (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0 && opaque(cs.outlineColor)) return true;
      if (cs.boxShadow === "none") return false;
      return cs.boxShadow.split(/,(?![^()]*\))/).some((layer) => {
        const color = (layer.match(/rgba?\([^)]*\)/) || ["rgb(0,0,0)"])[0];
        const lengths = layer.replace(color, "").match(/-?[\d.]+px/g) || [];
        const [, , blur = "0", spread = "0"] = lengths;
        return opaque(color) && (parseFloat(blur) > 0 || parseFloat(spread) > 0);
      });
    };
    const label = e.labels && e.labels[0];
    const checkable = e.type === "checkbox" || e.type === "radio";
    const shown = ring(e) || (checkable && label && (ring(label) || ring(label, "::before") || ring(label, "::after")));
    const name = (e.getAttribute("aria-label") || (label && label.innerText) || e.innerText || e.value || "").replace(/\s+/g, " ").trim();
    const cs = getComputedStyle(e);
    const style = `outline ${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}, box-shadow ${cs.boxShadow}, class "${e.className}", :focus ${e.matches(":focus")}, :focus-within ${e.matches(":focus-within")}`;
    return { tag: e.tagName, type: e.type || "", name, ring: shown, checked: Boolean(e.checked), style };
  });
}

/** Press Tab (or Shift+Tab) until the focused element's name matches; every stop on the way must show its focus. */
async function tabTo(page, wanted, { back = false, max = 80 } = {}) {
  const seen = [];
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
    const f = await focused(page);
    seen.push(`${f.tag} ${f.name}`);
    assert.ok(f.ring, `no visible focus on ${f.tag} ${f.type} "${f.name}": ${f.style}`);
    if (typeof wanted === "string" ? f.name === wanted : wanted.test(f.name)) return f;
  }
  assert.fail(`"${wanted}" not reached in ${max} Tab presses; focus went to: ${seen.join(" | ")}`);
}

async function heading(page, text) {
  await page.getByRole("heading", { level: 1, name: text }).waitFor();
}

test("a parent goes from the home page to a saved draft with the keyboard alone", async () => {
  const page = await newPage(browser, DESKTOP, errors);
  try {
    const parentEmail = email("tastiera");
    const pupilCode = fiscalCode("2018-03-14", true);
    await page.goto(`${stack.base}/demo/`);
    await heading(page, "Iscrizioni ai servizi scolastici");

    // The skip link comes first in the page and lands on the content.
    await tabTo(page, "Vai al contenuto");
    assert.ok(await page.getByRole("link", { name: "Vai al contenuto" }).isVisible(), "the skip link shows when focused");
    await page.keyboard.press("Enter");
    assert.equal(new URL(page.url()).hash, "#contenuto", "the skip link stays on the page");
    await tabTo(page, /.+/, { max: 1 });
    assert.ok(
      await page.evaluate(() => document.activeElement === document.querySelector("main").querySelector("a[href], button, input, select, textarea")),
      "after the skip link, Tab goes to the first control of the content",
    );

    await tabTo(page, "Nuova iscrizione");
    await page.keyboard.press("Enter");
    await heading(page, "Nuova iscrizione");
    assert.equal((await focused(page)).tag, "H1", "a new page puts the focus on its title");

    // The pupil's fiscal code, the privacy notice ticked with Space, "Prosegui" with Enter.
    await tabTo(page, /^Codice fiscale dell’alunno/);
    await page.keyboard.type(pupilCode);
    const privacy = await tabTo(page, /^Ho letto l’informativa/);
    assert.equal(privacy.checked, false);
    await page.keyboard.press("Space");
    assert.equal((await focused(page)).checked, true, "Space ticks the privacy notice");
    await tabTo(page, "Prosegui");
    await page.keyboard.press("Enter");

    await page.getByLabel(/^Email/).waitFor();
    await tabTo(page, /^Email/);
    await page.keyboard.type(parentEmail);
    await page.keyboard.press("Enter");
    await page.getByLabel(/^Codice di sicurezza/).waitFor();
    await tabTo(page, /^Codice di sicurezza/, { back: true });
    await page.keyboard.type(await latestCode(stack.base, parentEmail));
    await tabTo(page, "Conferma");
    await page.keyboard.press("Enter");

    // Step 1: names typed, then "Salva bozza" with the guardian still empty.
    await heading(page, "Domanda d’iscrizione");
    await tabTo(page, /^Nome dell’alunno/);
    await page.keyboard.type("Maria");
    await tabTo(page, /^Cognome dell’alunno/);
    await page.keyboard.type("Tastiera");
    await tabTo(page, "Salva bozza");
    await page.keyboard.press("Enter");
    const alert = page.getByRole("alert").filter({ hasText: "Codice fiscale del genitore" });
    await alert.waitFor();
    await accessible(page, "keyboard: step 1, draft incomplete");
    await shot(page, "keyboard-01-error-summary");

    // The error summary's link takes the focus to the field, on its step.
    await tabTo(page, /^Codice fiscale del genitore/, { back: true, max: 120 });
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "2. Genitore" }).waitFor();
    const field = await focused(page);
    assert.equal(field.tag, "INPUT");
    assert.match(field.name, /^Codice fiscale del genitore/);
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-invalid")), "true");
    await page.keyboard.type(fiscalCode("1985-06-20", false));
    await tabTo(page, /^Nome del genitore/);
    await page.keyboard.type("Paolo");
    await tabTo(page, /^Cognome del genitore/);
    await page.keyboard.type("Tastiera");
    await tabTo(page, "Salva bozza");
    await page.keyboard.press("Enter");
    await page.getByText("Bozza salvata").first().waitFor();
    await shot(page, "keyboard-02-draft-saved");
  } catch (e) {
    await shot(page, "keyboard-parent-FAILED");
    throw e;
  }
  assert.deepEqual(errors, []);
});

test("an operator confirms an application with the keyboard alone", async () => {
  const page = await newPage(browser, DESKTOP, errors);
  try {
    const app = await submittedApplication(stack.base, "tastiera-staff");
    await page.goto(`${stack.base}/demo/staff/`);
    await heading(page, "Accesso al back-office");
    await tabTo(page, "Vai al contenuto");
    await page.keyboard.press("Enter");
    assert.equal(new URL(page.url()).hash, "#contenuto", "the skip link stays on the page");
    await tabTo(page, "Accedi come operatore", { max: 1 });
    await page.keyboard.press("Enter");
    await heading(page, "Domande d'iscrizione");
    await page.locator("table caption").waitFor();

    // Newest submission first: this one is the first row.
    await tabTo(page, `Apri la domanda di ${app.name}`);
    await page.keyboard.press("Enter");
    await heading(page, "Domanda d'iscrizione");
    await tabTo(page, "Conferma domanda", { max: 120 });
    await page.keyboard.press("Enter");
    const done = page.locator(".staff-feedback .alert-success");
    await done.waitFor();
    assert.match(await done.innerText(), /Confermata/);
    await shot(page, "keyboard-03-staff-confirmed");

    await tabTo(page, "Torna all'elenco delle domande", { back: true, max: 120 });
    await page.keyboard.press("Enter");
    await heading(page, "Domande d'iscrizione");
  } catch (e) {
    await shot(page, "keyboard-staff-FAILED");
    throw e;
  }
  assert.deepEqual(errors, []);
});
