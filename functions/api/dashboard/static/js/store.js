// The sessions the key can see, shared by every page and kept current by the event stream: a
// `session.*` event re-reads that one session (debounced), and `session.qr` carries the new QR code
// (a PNG data URL) itself, so nothing polls.

import { ApiError, api, seg } from "./api.js";

const REFRESH_DEBOUNCE_MS = 150;
const LIST_LIMIT = 1000;

export class SessionStore {
  constructor() {
    this.sessions = new Map();
    this.qrCodes = new Map(); // session id -> PNG data URL of the QR on show
    this.qrRequested = new Set();
    this.timers = new Map();
    this.listeners = new Set();
    this.loaded = false;
    this.live = true; // false while the event stream is down: what is shown may be stale
  }

  /** The event stream opened (true) or dropped (false). */
  setLive(live) {
    if (this.live === live) return;
    this.live = live;
    this.notify();
  }

  /** `listener()` runs after every change; returns the function that unsubscribes it. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify() {
    this.listeners.forEach((listener) => listener());
  }

  /** Sessions, oldest first (the API's order). */
  list() {
    return [...this.sessions.values()];
  }

  get(id) {
    return this.sessions.get(id);
  }

  async refresh() {
    const list = await api.get(`/api/sessions?limit=${LIST_LIMIT}`);
    this.sessions = new Map(list.map((session) => [session.id, session]));
    this.loaded = true;
    this.notify();
  }

  put(session) {
    const before = this.sessions.get(session.id);
    this.sessions.set(session.id, session);
    if (session.status !== "qr_ready") {
      this.qrCodes.delete(session.id);
      this.qrRequested.delete(session.id);
    } else if (before && before.status !== "qr_ready") {
      this.qrRequested.delete(session.id);
    }
    this.notify();
  }

  remove(id) {
    this.sessions.delete(id);
    this.qrCodes.delete(id);
    this.notify();
  }

  async refreshOne(id) {
    try {
      this.put(await api.get(`/api/sessions/${seg(id)}`));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) this.remove(id);
    }
  }

  /** The QR of a session that was already showing one before this page loaded: fetched once. */
  async loadQr(id) {
    if (this.qrCodes.has(id) || this.qrRequested.has(id)) return;
    this.qrRequested.add(id);
    try {
      const answer = await api.get(`/api/sessions/${seg(id)}/qr`);
      if (!this.qrCodes.has(id) && answer && answer.qrCode) {
        this.qrCodes.set(id, answer.qrCode);
        this.notify();
      }
    } catch {
      // No QR any more (the status moved on), or a viewer key: the card says so from the status.
    }
  }

  /** Feed every event frame of the stream here. */
  onEvent(frame) {
    const id = frame.sessionId;
    if (!id || !frame.event || !frame.event.startsWith("session.")) return;
    if (frame.event === "session.qr" && frame.data && frame.data.qr) {
      this.qrCodes.set(id, frame.data.qr);
      this.notify();
    }
    clearTimeout(this.timers.get(id));
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        this.refreshOne(id);
      }, REFRESH_DEBOUNCE_MS),
    );
  }
}
