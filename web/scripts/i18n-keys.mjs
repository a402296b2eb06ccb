// The keys of the portal's catalogues, read from the source as it is: every
// t("…") and bilingual("…") of the portal's modules (all of
// src/_assets/js but the back-office's staff.js, which stays in Italian),
// and every `data-i18n` / `data-i18n-binding` element and `<!-- title: … -->`
// of the static pages. A call whose first argument is not one plain string
// literal is a problem: its key could not be read here, so no catalogue
// would ever have it. Used by tests/i18n.test.mjs and scripts/i18n-missing.mjs.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const web = join(dirname(fileURLToPath(import.meta.url)), "..");
export const catalogueDir = join(web, "src", "_assets", "i18n");
const jsDir = join(web, "src", "_assets", "js");
const pagesDir = join(web, "src", "pages");

/** The modules of the portal and the static pages (not the back-office). */
export function portalModules() {
  return readdirSync(jsDir)
    .filter((f) => f.endsWith(".js") && f !== "staff.js")
    .sort()
    .map((f) => join(jsDir, f));
}

/** The translation functions whose first argument is a key. */
const TRANSLATORS = new Set(["t", "bilingual"]);

/**
 * The tokens of a JavaScript source that matter here: identifiers,
 * punctuation, and string, template and regular-expression literals, each
 * with its line; comments dropped.
 */
export function tokens(src) {
  const out = [];
  let i = 0;
  let line = 1;
  const push = (type, value, raw) => out.push({ type, value, raw, line });
  // Whether a `/` here starts a regular expression (not a division).
  const regexAllowed = () => {
    const prev = out.at(-1);
    if (!prev) return true;
    if (prev.type === "punct") return !")]}".includes(prev.value);
    if (prev.type === "ident") return ["return", "typeof", "case", "of", "in", "new", "delete", "void", "throw", "else", "do", "await", "yield"].includes(prev.value);
    return false;
  };
  while (i < src.length) {
    const c = src[i];
    if (c === "\n") {
      line += 1;
      i += 1;
    } else if (/\s/.test(c)) {
      i += 1;
    } else if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i += 1;
    } else if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      line += (src.slice(i, stop).match(/\n/g) || []).length;
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) {
        if (src[j] === "\\") j += 1;
        if (src[j] === "\n") throw new Error(`unterminated string at line ${line}`);
        j += 1;
      }
      const raw = src.slice(i, j + 1);
      let value;
      try {
        value = c === '"' ? JSON.parse(raw) : JSON.parse(`"${raw.slice(1, -1).replace(/\\'/g, "'").replace(/"/g, '\\"')}"`);
      } catch {
        value = raw.slice(1, -1);
      }
      push("string", value, raw);
      i = j + 1;
    } else if (c === "`") {
      // A template literal; `${…}` inside it makes it not a plain text.
      // Its `${…}` expressions are code: their tokens follow the template's.
      let j = i + 1;
      let depth = 0;
      let from = -1;
      const expressions = [];
      while (j < src.length) {
        if (depth === 0 && src[j] === "`") break;
        if (src[j] === "\\") j += 1;
        else if (src[j] === "$" && src[j + 1] === "{") {
          if (depth === 0) from = j + 2;
          depth += 1;
          j += 1;
        } else if (depth > 0 && src[j] === "{") depth += 1;
        else if (depth > 0 && src[j] === "}") {
          depth -= 1;
          if (depth === 0) expressions.push([from, j]);
        }
        j += 1;
      }
      const raw = src.slice(i, j + 1);
      push("template", raw.slice(1, -1), raw);
      out.at(-1).interpolated = expressions.length > 0;
      for (const [a, b] of expressions) {
        const startLine = line + (src.slice(i, a).match(/\n/g) || []).length;
        for (const tok of tokens(src.slice(a, b))) out.push({ ...tok, line: tok.line + startLine - 1 });
      }
      line += (raw.match(/\n/g) || []).length;
      i = j + 1;
    } else if (c === "/" && regexAllowed()) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length && (src[j] !== "/" || inClass)) {
        if (src[j] === "\\") j += 1;
        else if (src[j] === "[") inClass = true;
        else if (src[j] === "]") inClass = false;
        j += 1;
      }
      j += 1;
      while (/[a-z]/.test(src[j] || "")) j += 1;
      push("regex", src.slice(i, j), src.slice(i, j));
      i = j;
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (/[\w$]/.test(src[j] || "")) j += 1;
      push("ident", src.slice(i, j), src.slice(i, j));
      i = j;
    } else if (/\d/.test(c)) {
      let j = i + 1;
      while (/[\w.]/.test(src[j] || "")) j += 1;
      push("number", src.slice(i, j), src.slice(i, j));
      i = j;
    } else {
      push("punct", c, c);
      i += 1;
    }
  }
  return out;
}

/**
 * The keys of one module: `{ keys: [{ key, line }], problems: [message] }`.
 * A call t(…) or bilingual(…) (not a method `x.t(…)`, not a declaration)
 * must have one double-quoted string literal as its first argument.
 */
export function keysOfModule(src, name = "module") {
  const toks = tokens(src);
  const keys = [];
  const problems = [];
  for (let k = 0; k < toks.length; k += 1) {
    const tok = toks[k];
    if (tok.type !== "ident" || !TRANSLATORS.has(tok.value) || toks[k + 1]?.value !== "(") continue;
    const before = toks[k - 1];
    // `x.t(`: someone else's method; `function t(`: the definition itself.
    if (before && ((before.type === "punct" && before.value === ".") || (before.type === "ident" && before.value === "function"))) continue;
    const arg = toks[k + 2];
    const after = toks[k + 3];
    const literal = arg && arg.type === "string" && arg.raw.startsWith('"') && after && (after.value === "," || after.value === ")");
    if (!literal) {
      problems.push(`${name}:${tok.line}: ${tok.value}() needs one string literal ("…") as its key, found ${arg ? arg.raw.slice(0, 40) : "nothing"}${after && !literal && arg?.type === "string" ? ` followed by ${after.raw}` : ""}`);
      continue;
    }
    if (arg.value.trim() === "") problems.push(`${name}:${tok.line}: empty key`);
    else keys.push({ key: arg.value, line: tok.line });
  }
  return { keys, problems };
}

const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&nbsp;": "\u00a0" };
const decode = (s) => s.replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (e) => ENTITIES[e]);

/**
 * The keys of one static page: its title, and each element marked
 * `data-i18n` or `data-i18n-binding`, whose text (children marked
 * `data-i18n-arg="name"` read as `{name}`) is the key, as static.js reads it.
 */
export function keysOfPage(html, name = "page") {
  const keys = [];
  const problems = [];
  const lineAt = (index) => html.slice(0, index).split("\n").length;
  const title = html.match(/^<!--\s*title:\s*(.*?)\s*-->/);
  if (title) keys.push({ key: title[1], line: 1 });
  const marked = /<([a-z][a-z0-9]*)\b([^>]*\sdata-i18n(?:-binding)?(?:="")?(?=[\s>])[^>]*)>([\s\S]*?)<\/\1>/g;
  for (const m of html.matchAll(marked)) {
    let inner = m[3].replace(/<span\b[^>]*\bdata-i18n-arg="(\w+)"[^>]*>[^<]*<\/span>/g, "{$1}");
    if (/<[a-z/!]/i.test(inner)) {
      problems.push(`${name}:${lineAt(m.index)}: a data-i18n element holds only text and data-i18n-arg spans: ${m[0].slice(0, 80)}`);
      continue;
    }
    inner = decode(inner).replace(/\s+/g, " ").trim();
    if (!inner) problems.push(`${name}:${lineAt(m.index)}: empty data-i18n element`);
    else keys.push({ key: inner, line: lineAt(m.index) });
  }
  return { keys, problems };
}

/**
 * Every key of the portal and the static pages: `{ keys: Map(key → ["file:line", …]), problems }`.
 */
export function extractKeys() {
  const keys = new Map();
  const problems = [];
  const add = (file, found) => {
    for (const { key, line } of found.keys) {
      if (!keys.has(key)) keys.set(key, []);
      keys.get(key).push(`${relative(web, file)}:${line}`);
    }
    problems.push(...found.problems);
  };
  for (const file of portalModules()) add(file, keysOfModule(readFileSync(file, "utf8"), relative(web, file)));
  for (const f of readdirSync(pagesDir).filter((x) => x.endsWith(".html")).sort()) {
    const file = join(pagesDir, f);
    add(file, keysOfPage(readFileSync(file, "utf8"), relative(web, file)));
  }
  return { keys, problems };
}

/** The `{placeholders}` of a text, sorted, as one string. */
export function placeholders(text) {
  return [...String(text).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(",");
}

/** The languages with a catalogue: every language of i18n.js but Italian. */
export async function translatedLanguages() {
  const { LANGUAGES } = await import("../src/_assets/js/i18n.js");
  return LANGUAGES.filter((l) => l.code !== "it").map((l) => l.code);
}

/** A catalogue as the repository has it. */
export function readCatalogue(code) {
  return JSON.parse(readFileSync(join(catalogueDir, `${code}.json`), "utf8"));
}
