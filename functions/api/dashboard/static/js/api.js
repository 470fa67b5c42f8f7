// The gateway's public REST API, called with the key the user pasted. The key lives in sessionStorage
// (this tab only, gone when it closes) and travels in the X-API-Key header: never in a URL, where it
// would end up in history, logs and Referer headers.

const STORAGE_KEY = "openwa.dashboard.apiKey";

/** An error answer of the API (its flat error body), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || (status ? `HTTP ${status}` : "Cannot reach the gateway"));
    this.name = "ApiError";
    this.status = status;
    this.code = (body && body.code) || (status ? `HTTP_${status}` : "NETWORK_ERROR");
    this.requestId = body && body.requestId;
  }

  /** One line for people: the message, then status and machine code. */
  describe() {
    return this.status ? `${this.message} (${this.status} ${this.code})` : `${this.message} (${this.code})`;
  }
}

export function storedKey() {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function storeKey(key) {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey() {
  sessionStorage.removeItem(STORAGE_KEY);
}

const listeners = new Set();

/** Called with the ApiError of every 401 answer (the key was revoked, expired or deleted meanwhile). */
export function onUnauthorized(listener) {
  listeners.add(listener);
}

async function parse(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 300) };
  }
}

/**
 * One API call. Resolves to the JSON body (null for 204); rejects with ApiError.
 * `key` overrides the stored key (the sign-in check uses the key being tried).
 */
export async function request(method, path, { body, key = storedKey(), signal } = {}) {
  const headers = { Accept: "application/json" };
  if (key) headers["X-API-Key"] = key;
  const init = { method, headers, signal, cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, null);
  }
  const data = await parse(response);
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && key === storedKey()) listeners.forEach((listener) => listener(error));
    throw error;
  }
  return data;
}

export const api = {
  get: (path, options) => request("GET", path, options),
  post: (path, body, options) => request("POST", path, { ...options, body }),
  put: (path, body, options) => request("PUT", path, { ...options, body }),
  patch: (path, body, options) => request("PATCH", path, { ...options, body }),
  del: (path, options) => request("DELETE", path, options),
};

/** A path segment, escaped (ids come from the API, chat ids from people). */
export const seg = (value) => encodeURIComponent(String(value));
