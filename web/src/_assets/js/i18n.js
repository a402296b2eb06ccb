// The portal's languages, gettext-style: the key of every text is its
// Italian source text (Italian is the default and the binding language),
// `{placeholders}` filled from params. A catalogue per other language,
// /_assets/i18n/{code}.json, maps an Italian key to its translation with
// the same placeholders; a key it lacks (or leaves empty) shows in Italian.
// The family's choice is kept in localStorage (`lang`), so it survives
// sessions and tabs. Only a page that calls useLanguage() (the parent
// portal, the static pages) loads a catalogue: the staff back-office never
// does, so there t() is Italian. Nothing here touches the DOM or the
// storage at import time: build.mjs and the node tests import it too.

/** The portal's languages, each named in its own language. */
export const LANGUAGES = [
  { code: "it", name: "Italiano", dir: "ltr", locale: "it-IT" },
  { code: "en", name: "English", dir: "ltr", locale: "en-GB" },
  // Latin digits, as in the rest of the portal (codes, amounts, dates).
  { code: "ar", name: "العربية", dir: "rtl", locale: "ar-u-nu-latn" },
  { code: "ro", name: "Română", dir: "ltr", locale: "ro-RO" },
  { code: "uk", name: "Українська", dir: "ltr", locale: "uk-UA" },
  { code: "sq", name: "Shqip", dir: "ltr", locale: "sq-AL" },
];

const STORAGE_KEY = "lang";
const byCode = (code) => LANGUAGES.find((l) => l.code === code);

/** Whether `code` is one of the portal's languages. */
export function isLanguage(code) {
  return typeof code === "string" && Boolean(byCode(code));
}

/** The family's choice (default Italian). */
export function lang() {
  try {
    const code = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (isLanguage(code)) return code;
  } catch {
    /* storage disabled: Italian */
  }
  return "it";
}

/** Keep the family's choice (it takes effect with useLanguage()). */
export function setLang(code) {
  if (!isLanguage(code)) throw new Error(`unknown language ${code}`);
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, code);
  } catch {
    /* storage disabled: the choice lasts this page */
  }
}

// The language this page speaks now, and its catalogue.
let active = "it";
let catalogue = {};

/** The language of this page's texts (Italian until useLanguage() loads another). */
export function current() {
  return active;
}

/** The text direction of this page's language. */
export function direction() {
  return byCode(active).dir;
}

/** The locale for Intl (dates, money) of this page's language. */
export function locale() {
  return byCode(active).locale;
}

/**
 * Load the catalogue of `code` (the family's choice by default) and make it
 * this page's language: `<html lang dir>` follow. A catalogue that cannot
 * be loaded leaves the page in Italian. Resolves to the language in use.
 */
export async function useLanguage(code = lang()) {
  let entries = {};
  let chosen = isLanguage(code) ? code : "it";
  if (chosen !== "it") {
    try {
      const r = await fetch(`/_assets/i18n/${chosen}.json`, { cache: "no-cache" });
      if (!r.ok) throw new Error(`catalogue ${chosen}: ${r.status}`);
      entries = await r.json();
      if (!entries || typeof entries !== "object" || Array.isArray(entries)) throw new Error(`catalogue ${chosen}: not an object`);
    } catch {
      chosen = "it";
      entries = {};
    }
  }
  active = chosen;
  catalogue = entries;
  if (globalThis.document) {
    document.documentElement.lang = chosen;
    document.documentElement.dir = byCode(chosen).dir;
  }
  return chosen;
}

// First Strong Isolate … Pop Directional Isolate: a value (an email, a
// fiscal code, a number) keeps its own direction inside right-to-left text.
const FSI = "\u2068";
const PDI = "\u2069";

/** Fill `{name}` placeholders of `text` from `params` (unknown ones stay). */
export function fill(text, params) {
  if (!params) return text;
  const isolate = direction() === "rtl";
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!Object.prototype.hasOwnProperty.call(params, name) || params[name] === null || params[name] === undefined) return whole;
    const value = String(params[name]);
    return isolate ? `${FSI}${value}${PDI}` : value;
  });
}

/** The translation of `key`, or the key itself (Italian). */
function lookup(key) {
  const text = active === "it" ? undefined : catalogue[key];
  return typeof text === "string" && text !== "" ? text : key;
}

/**
 * The text of `key` (its Italian source text, a string literal: the
 * catalogue test reads the keys from the source) in this page's language.
 */
export function t(key, params) {
  return fill(lookup(key), params);
}

/**
 * Official wording (the privacy notice, the self-certification): the
 * Italian text binds, the translation helps to read it. `{ it, text,
 * translated }`: the Italian text, the text in this page's language, and
 * whether they differ (then both are shown). The key is a string literal,
 * as for t().
 */
export function bilingual(key, params) {
  const it = fill(key, params);
  const text = fill(lookup(key), params);
  return { it, text, translated: active !== "it" && text !== it, lang: active };
}

/**
 * The text of a key that is not a string literal of the code: only for the
 * keys the static pages carry in their HTML (`data-i18n`), which the
 * catalogue test reads from there.
 */
export function translateKey(key, params) {
  return fill(lookup(key), params);
}
