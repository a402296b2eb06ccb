// Browser tests' support: a dev server (the same binary as `make dev`) on a
// free port against the run's emulator, Debian's Chromium driven by
// playwright-core, axe-core on every page, screenshots kept as artifacts in
// target/e2e, and the local mail outbox.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, existsSync, appendFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { checkChar } from "../src/_assets/js/checks.js";

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, "..", "..");
export const out = process.env.E2E_OUT || join(root, "target", "e2e");
mkdirSync(join(out, "screenshots"), { recursive: true });
// Under `make test` the dev servers log where the log scan looks, and every
// secret the browser tests use is recorded for it (as the Rust tests do).
const logDir = process.env.TEST_LOG_DIR || out;
mkdirSync(logDir, { recursive: true });

/** Record a secret (email, fiscal code, code, password) for the log scan. */
export function remember(secret) {
  if (process.env.TEST_LOG_DIR) appendFileSync(join(process.env.TEST_LOG_DIR, "e2e.secrets"), `${secret}\n`);
  return secret;
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on("error", fail);
  });
}

/** Start the dev server; resolves to { base, stop }. */
export async function startStack(name) {
  const target = process.env.CARGO_TARGET_DIR || join(root, "target");
  const bin = process.env.DEVSERVER_BIN || join(target, "debug", "devserver");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build it with cargo build -p local --bin devserver`);
  const port = await freePort();
  const log = join(logDir, `e2e-devserver-${name}.log`);
  writeFileSync(log, "");
  const child = spawn(bin, [], {
    // Its own table: nothing another stack or the contract fuzzing wrote.
    env: { ...process.env, PORT: String(port), RUST_LOG: process.env.RUST_LOG || "info", LOCAL_TABLE: `e2e-${name}-${Date.now().toString(36)}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => appendFileSync(log, d));
  child.stderr.on("data", (d) => appendFileSync(log, d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) throw new Error(`the dev server stopped; see ${log}`);
    try {
      const r = await fetch(`${base}/v1/demo/windows`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    stop: () =>
      new Promise((ok) => {
        if (child.exitCode !== null) return ok();
        child.on("exit", () => ok());
        child.kill("SIGTERM");
      }),
  };
}

/** Debian's Chromium, headless, with the flags this machine needs. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

export const PHONE = { width: 375, height: 812 };
export const DESKTOP = { width: 1366, height: 900 };

/** A new page that fails the test on any uncaught page error. */
export async function newPage(browser, viewport, errors) {
  const context = await browser.newContext({ viewport, locale: "it-IT", timezoneId: "Europe/Rome", acceptDownloads: true });
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  page.setDefaultTimeout(15000);
  return page;
}

const axeSource = readFileSync(join(root, "web", "node_modules", "axe-core", "axe.min.js"), "utf8");
const axeLog = join(out, "axe.jsonl");

/**
 * Run axe-core (WCAG 2.0/2.1 A and AA rules) on the page as it is now;
 * records the result in target/e2e/axe.jsonl and returns the violations.
 */
export async function axe(page, label) {
  const defined = await page.evaluate(() => typeof window.axe !== "undefined");
  if (!defined) await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  const violations = result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
  }));
  appendFileSync(axeLog, `${JSON.stringify({ label, url: new URL(page.url()).pathname, violations, passes: result.passes.length, incomplete: result.incomplete.length })}\n`);
  return violations;
}

/** axe finds nothing on the page as it is now. */
export async function accessible(page, label) {
  const violations = await axe(page, label);
  assert.deepEqual(violations, [], `axe on ${label}: ${JSON.stringify(violations, null, 1)}`);
}

/** A label that starts with `s` (required fields add a mark after it). */
export const L = (s) => new RegExp(`^${s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`);

/** Tick or untick a Bootstrap Italia check or radio by clicking its label, as a person does. */
export async function tick(page, name, on = true) {
  const input = page.getByLabel(L(name));
  if ((await input.isChecked()) !== on) await page.locator(`label[for="${await input.getAttribute("id")}"]`).click();
  assert.equal(await input.isChecked(), on, name);
}

/** A full-page screenshot in target/e2e/screenshots. */
export async function shot(page, name) {
  const file = join(out, "screenshots", `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Every message the local mail service accepted. */
export async function outbox(base) {
  const r = await fetch(`${base}/_local/outbox`);
  return (await r.json()).messages;
}

/** The newest 6-digit code mailed to `email`. */
export async function latestCode(base, email) {
  for (let i = 0; i < 50; i += 1) {
    const mails = (await outbox(base)).filter((m) => m.to.includes(email) && /Codice di sicurezza/.test(m.subject));
    const last = mails.at(-1);
    const m = last && last.text.match(/\b(\d{6})\b/);
    if (m) return remember(m[1]);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no code mailed to ${email}`);
}

/** The temporary password mailed to `email`. */
export async function temporaryPassword(base, email) {
  for (let i = 0; i < 50; i += 1) {
    const mails = (await outbox(base)).filter((m) => m.to.includes(email) && /password/i.test(m.subject + m.text));
    for (const m of mails.reverse()) {
      const found = m.text.match(/^Password: (\S+)$/m);
      if (found) return remember(found[1]);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no password mailed to ${email}`);
}

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const MONTHS = "ABCDEHLMPRST";
/** A random, valid fiscal code of someone born on `birth` (YYYY-MM-DD). */
export function fiscalCode(birth = "2018-03-14", female = true) {
  const [y, m, d] = birth.split("-").map(Number);
  let s = "";
  for (let i = 0; i < 6; i += 1) s += LETTERS[Math.floor(Math.random() * 26)];
  s += String(y % 100).padStart(2, "0") + MONTHS[m - 1] + String(female ? d + 40 : d).padStart(2, "0") + "A662";
  return remember(s + checkChar(s));
}

/** A unique address on the example domain. */
export function email(tag) {
  return remember(`${tag}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}@example.it`);
}

/** `n` random lowercase letters, for surnames no other test uses. */
export function letters(n) {
  let s = "";
  for (let i = 0; i < n; i += 1) s += "abcdefghijklmnopqrstuvwxyz"[Math.floor(Math.random() * 26)];
  return s;
}

async function json(r) {
  const text = await r.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Every SMS the local SMS service accepted. */
export async function smsOutbox(base) {
  const r = await fetch(`${base}/_local/sms-outbox`);
  return (await r.json()).messages;
}

/** The newest 6-digit code sent by SMS to `phone` (E.164). */
export async function latestSmsCode(base, phone) {
  for (let i = 0; i < 50; i += 1) {
    const last = (await smsOutbox(base)).filter((m) => m.to === phone).at(-1);
    const m = last && last.text.match(/\b(\d{6})\b/);
    if (m) return remember(m[1]);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no SMS to ${phone}`);
}

/** A fresh Italian mobile number in E.164. */
export function mobile() {
  return remember(`+39333${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`);
}

/** A submitted application on the demo tenant's meals window, through the parents' API with plain fetch. */
export async function submittedApplication(base, tag) {
  const draft = await completeDraft(base, tag);
  const r = await draft.post(`/applications/${draft.id}/submit`, undefined, draft.token);
  const submitted = await json(r);
  assert.equal(r.status, 200, JSON.stringify(submitted));
  assert.equal(submitted.status, "submitted");
  return { id: submitted.id, email: draft.email, name: draft.name, userCode: submitted.user_code, fiscalCode: draft.fiscalCode };
}

/**
 * A complete draft on `tenant`'s meals window with the guardian's `phone`,
 * through the parents' API with plain fetch; with the session it was saved in.
 */
export async function completeDraft(base, tag, { tenant = "demo", phone = "+393331234567", pupil = null, expect = 201, window = "w-refezione-2026", service = null } = {}) {
  const mail = email(tag);
  const post = (path, body, token) =>
    fetch(`${base}/v1/${tenant}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  let r = await post("/email-codes", { email: mail });
  assert.equal(r.status, 202, JSON.stringify(await json(r)));
  const code = await latestCode(base, mail);
  r = await post("/sessions", { email: mail, code });
  const session = await json(r);
  assert.equal(r.status, 201, JSON.stringify(session));
  const first = "Maria";
  const last = `Staff${letters(6)}`;
  const body = {
    window_id: window,
    kind: "new",
    pupil: {
      fiscal_code: pupil || fiscalCode("2018-03-14", true),
      first_name: first,
      last_name: last,
      birth_date: "2018-03-14",
      school: "Primaria G. Mazzini",
      grade: "2",
      section: "B",
    },
    guardian: {
      fiscal_code: fiscalCode("1985-06-20", false),
      first_name: "Paolo",
      last_name: last,
      relationship: "padre",
      email: mail,
      phone,
      address: { street: "Via Roma 1", city: "Corato", postal_code: "70033", province: "BA" },
    },
    service: service || { diet: { kind: "none", notes: "" }, days: ["mon", "tue", "wed", "thu", "fri"] },
    isee: null,
    declarations: { privacy: true, regulation: true, truthfulness: true },
  };
  r = await post("/applications", body, session.token);
  const draft = await json(r);
  assert.equal(r.status, expect, JSON.stringify(draft));
  return { id: draft.id, reply: draft, post, token: session.token, session, email: mail, name: `${first} ${last}`, fiscalCode: body.pupil.fiscal_code };
}
