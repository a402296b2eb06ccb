// The contract's field rules, checked in the browser as the parent types so
// that mistakes show at once; the API checks them again on every write and
// its answer is what counts. Messages are the API's wording where it has one,
// in the page's language (i18n.js).
import { t } from "./i18n.js";

const ODD = {
  0: 1, 1: 0, 2: 5, 3: 7, 4: 9, 5: 13, 6: 15, 7: 17, 8: 19, 9: 21,
  A: 1, B: 0, C: 5, D: 7, E: 9, F: 13, G: 15, H: 17, I: 19, J: 21, K: 2, L: 4, M: 18,
  N: 20, O: 11, P: 3, Q: 6, R: 8, S: 12, T: 14, U: 16, V: 10, W: 22, X: 25, Y: 24, Z: 23,
};
const OMOCODIA = "LMNPQRSTUV";
const MONTHS = "ABCDEHLMPRST";

function even(c) {
  return c >= "0" && c <= "9" ? c.charCodeAt(0) - 48 : c.charCodeAt(0) - 65;
}

/** The check character of the first 15 characters of a fiscal code. */
export function checkChar(first15) {
  let sum = 0;
  for (let i = 0; i < 15; i += 1) {
    const c = first15[i];
    sum += i % 2 === 0 ? ODD[c] : even(c);
  }
  return String.fromCharCode(65 + (sum % 26));
}

const SHAPE = /^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/;

/** Normalised code, or null when it is not a valid fiscal code. */
export function fiscalCode(raw) {
  const code = String(raw || "").trim().toUpperCase();
  if (!SHAPE.test(code)) return null;
  if (checkChar(code.slice(0, 15)) !== code[15]) return null;
  return code;
}

function digits(s) {
  return s.replace(/[LMNPQRSTUV]/g, (c) => String(OMOCODIA.indexOf(c)));
}

/** Birth date (YYYY-MM-DD, century guessed) encoded in a valid code. */
export function birthDateOf(code) {
  const yy = Number(digits(code.slice(6, 8)));
  const month = MONTHS.indexOf(code[8]) + 1;
  let day = Number(digits(code.slice(9, 11)));
  if (day > 40) day -= 40;
  const now = new Date().getFullYear() % 100;
  const year = yy <= now ? 2000 + yy : 1900 + yy;
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** A phone number as the API compares it: E.164, `+39` without a prefix. */
export function phoneE164(raw) {
  const compact = String(raw || "").trim().replace(/[\s.\-/()]/g, "");
  if (compact.startsWith("+")) return compact;
  if (compact.startsWith("00")) return `+${compact.slice(2)}`;
  return `+39${compact}`;
}

export const rules = {
  fiscal_code: (v) => (fiscalCode(v) ? "" : t("Codice fiscale non valido: controlla i 16 caratteri.")),
  email: (v) => (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.trim()) ? "" : t("Indirizzo email non valido.")),
  phone: (v) => {
    const e164 = phoneE164(v);
    const national = e164.startsWith("+39") ? e164.slice(3) : null;
    const ok = national === null ? /^\+[1-9]\d{7,14}$/.test(e164) : /^3\d{8,9}$/.test(national) || /^0\d{5,10}$/.test(national);
    return ok ? "" : t("Numero di telefono non valido: cellulare o fisso italiano, oppure un numero estero con il prefisso internazionale (+…).");
  },
  postal_code: (v) => (/^\d{5}$/.test(v.trim()) ? "" : t("Il CAP è di 5 cifre.")),
  province: (v) => (/^[A-Za-z]{2}$/.test(v.trim()) ? "" : t("La provincia è la sigla di 2 lettere (ad esempio BA).")),
};
