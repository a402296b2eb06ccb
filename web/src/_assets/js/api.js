// The public contract (../shared/API.md), as the browser calls it: JSON
// bodies, bearer tokens, ETag/If-Match versions, and errors in the
// contract's shape turned into ApiError. Nothing here knows a page.
// Every request asks for the page's language (`Accept-Language`): the API
// answers its error messages in it (Italian for the back-office).
import { t, current } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, body, headers) {
    const e = (body && body.error) || {};
    super(e.message || defaultMessage(status));
    this.status = status;
    this.code = e.code || (status === 0 ? "network" : "unexpected");
    this.fields = Array.isArray(e.fields) ? e.fields : [];
    this.detail = e;
    this.retryAfter = headers ? Number(headers.get("retry-after")) || null : null;
  }
}

function defaultMessage(status) {
  if (status === 0) return t("Connessione non riuscita: controlla la rete e riprova. I dati inseriti non sono andati persi.");
  if (status >= 500) return t("Il servizio non è disponibile in questo momento: riprova tra qualche minuto. I dati inseriti non sono andati persi.");
  return t("Richiesta non riuscita.");
}

/**
 * Call `method path` under `/v1/{tenant}`. Options: body (JSON or a string
 * with `contentType`), token, ifMatch (a version number).
 * Returns { status, data, etag }; throws ApiError.
 */
export async function call(tenant, method, path, { body, token, ifMatch, contentType, raw = false } = {}) {
  const headers = { Accept: "application/json", "Accept-Language": current() };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (ifMatch !== undefined && ifMatch !== null) headers["If-Match"] = `"${ifMatch}"`;
  let payload;
  if (body !== undefined) {
    if (contentType) {
      headers["Content-Type"] = contentType;
      payload = body;
    } else {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
  }
  let response;
  try {
    const send = await transport();
    response = await send(`/v1/${encodeURIComponent(tenant)}${path}`, { method, headers, body: payload, cache: "no-store" });
  } catch {
    throw new ApiError(0, null, null);
  }
  if (raw && response.ok) return { status: response.status, text: await response.text(), response };
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) throw new ApiError(response.status, data, response.headers);
  const etag = response.headers.get("etag");
  return { status: response.status, data, etag: etag ? Number(etag.replace(/"/g, "")) : null };
}

/** PUT a file to a presigned upload link (private storage). */
export async function upload(url, file, contentType) {
  let response;
  try {
    response = await fetch(url, { method: "PUT", headers: { "Content-Type": contentType }, body: file });
  } catch {
    throw new ApiError(0, null, null);
  }
  if (!response.ok) throw new ApiError(response.status, { error: { code: "upload_failed", message: t("Caricamento del file non riuscito: riprova.") } }, null);
}

let transportPromise = null;

/**
 * How API requests go out: through AWS WAF's application integration
 * (`AwsWafIntegration.fetch`, which solves the web ACL's challenge in the
 * background and sends its token) where the deployment's config.json
 * names its URL, else plain fetch (the local stack has no web ACL).
 */
function transport() {
  if (!transportPromise) {
    transportPromise = portalConfig().then((config) => {
      const url = config && config.waf_integration_url;
      if (typeof url !== "string" || !/^https:\/\//.test(url)) return fetch.bind(window);
      return new Promise((resolve) => {
        const script = document.createElement("script");
        script.src = `${url.replace(/\/?$/, "/")}challenge.js`;
        script.onload = () => resolve(window.AwsWafIntegration ? window.AwsWafIntegration.fetch.bind(window.AwsWafIntegration) : fetch.bind(window));
        script.onerror = () => resolve(fetch.bind(window));
        document.head.appendChild(script);
      });
    });
  }
  return transportPromise;
}

let configPromise = null;

/** The portal's deployment settings (SPID broker, staff sign-in, WAF), read once per page. */
export function portalConfig() {
  if (!configPromise) {
    configPromise = (async () => {
      try {
        const r = await fetch("/config.json", { cache: "no-store" });
        return r.ok ? await r.json() : {};
      } catch {
        return {};
      }
    })();
  }
  return configPromise;
}

/** The tenant from the page's path: /{tenant}/… */
export function tenantFromPath() {
  const m = location.pathname.match(/^\/([a-z0-9-]{2,40})(\/|$)/);
  return m ? m[1] : null;
}
