// Server-Sent Events read with fetch(): EventSource cannot send headers, and the key must not go into a
// URL. This parses the text/event-stream format (id, event, data, retry; `:` comments), and reconnects
// after the server's `retry` delay when the stream ends (the server closes it every SSE_MAX_SECONDS) or
// with a growing backoff after errors, resuming with Last-Event-ID so no event is missed in between.

const MAX_BACKOFF_MS = 30000;

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** Incremental parser: feed text chunks, get complete events through `emit({id, event, data})`. */
export class EventParser {
  constructor(emit, onRetry) {
    this.emit = emit;
    this.onRetry = onRetry;
    this.buffer = "";
    this.lastId = null;
    this.reset();
  }

  reset() {
    this.event = "";
    this.data = [];
  }

  feed(chunk) {
    this.buffer += chunk;
    let end;
    while ((end = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, end).replace(/\r$/, "");
      this.buffer = this.buffer.slice(end + 1);
      this.line(line);
    }
  }

  line(line) {
    if (line === "") {
      if (this.data.length)
        this.emit({ id: this.lastId, event: this.event || "message", data: this.data.join("\n") });
      this.reset();
      return;
    }
    if (line.startsWith(":")) return; // a comment: the server's keepalive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.lastId = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.onRetry(Number(value));
  }
}

/**
 * A live connection to `url`. `onEvent(frame)` gets each event's parsed JSON data (the gateway's frame:
 * `{event, timestamp, sessionId, eventId, data}`); `onState(state, detail)` gets "connecting", "open",
 * "reconnecting" and, when the key is refused, "unauthorized" (then it stops). With "open", `detail` says
 * whether it is a `reconnect` and whether it `resumed` from an event id: a reconnect that could not
 * resume (no event seen yet) may have missed events in between, so the caller re-reads what it shows.
 */
export class EventStream {
  constructor(url, { key, onEvent, onState }) {
    this.url = url;
    this.key = key;
    this.onEvent = onEvent;
    this.onState = onState || (() => {});
    this.controller = null;
    this.retryMs = 3000;
    this.lastId = null;
    this.opened = 0;
  }

  start() {
    if (this.controller) return;
    this.controller = new AbortController();
    this.run(this.controller.signal);
  }

  stop() {
    if (this.controller) this.controller.abort();
    this.controller = null;
  }

  async run(signal) {
    let failures = 0;
    while (!signal.aborted) {
      this.onState(this.lastId ? "reconnecting" : "connecting");
      try {
        const ended = await this.connect(signal);
        if (ended === "unauthorized") return;
        failures = 0; // a clean end of stream: come back after the server's retry delay
      } catch (error) {
        if (signal.aborted) return;
        failures += 1;
        this.onState("reconnecting", error);
      }
      const delay = failures ? Math.min(MAX_BACKOFF_MS, this.retryMs * 2 ** (failures - 1)) : this.retryMs;
      await sleep(delay, signal);
    }
  }

  async connect(signal) {
    const headers = { Accept: "text/event-stream", "X-API-Key": this.key };
    if (this.lastId) headers["Last-Event-ID"] = this.lastId;
    const response = await fetch(this.url, { headers, signal, cache: "no-store", credentials: "omit" });
    if (response.status === 401 || response.status === 403) {
      this.onState("unauthorized", new Error(`HTTP ${response.status}`));
      return "unauthorized";
    }
    if (!response.ok || !response.body) throw new Error(`event stream answered HTTP ${response.status}`);
    this.opened += 1;
    this.onState("open", { reconnect: this.opened > 1, resumed: Boolean(this.lastId) });
    const parser = new EventParser(
      (message) => this.dispatch(message),
      (ms) => {
        this.retryMs = ms;
      },
    );
    parser.lastId = this.lastId;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return "ended";
      parser.feed(value);
      this.lastId = parser.lastId;
    }
  }

  dispatch(message) {
    this.lastId = message.id || this.lastId;
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return; // not one of ours
    }
    this.onEvent(frame);
  }
}
