// The chat launcher and panel, in a shadow root so the page's styles and the widget's
// cannot disturb each other.

import { Config } from "./config";
import { BotMessage, Connection, Status } from "./connection";
import { el, icon, ICONS, renderBotText, renderUserText } from "./render";
import { Entry, QuickReply, Store } from "./store";
import { fill, strings, Strings } from "./strings";
import css from "./styles.css";

const TYPING_TIMEOUT_MS = 30000;
const RECONNECTED_NOTICE_MS = 3000;
const COUNTER_FROM = 100; // Characters left at which the counter appears.
// Sent, not shown, on the first opening; the page's language travels as metadata.
const GREETING = "/greet";

function stylesheet(root: ShadowRoot): void {
  // A constructed stylesheet is not inline style, so a strict CSP (style-src 'self') allows it.
  if ("adoptedStyleSheets" in Document.prototype && "replaceSync" in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(el("style", {}, css));
  }
}

export class ChatWidget {
  private readonly text: Strings;
  private readonly store: Store;
  private readonly connection: Connection;
  private readonly root = el("div", { class: "sc-root", "data-status": "idle" });
  private readonly launcher: HTMLButtonElement;
  private readonly panel: HTMLElement;
  private readonly log: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly typing: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly statusLabel: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly counter: HTMLElement;
  private replies: HTMLElement | null = null;
  private answerStart: HTMLElement | null = null;
  private status: Status | "idle" = "idle";
  private typingTimer = 0;
  // While a person from the clinic has the conversation, their replies take human time:
  // no typing dots that would promise an instant answer.
  private withPerson = false;
  private bannerTimer = 0;

  constructor(private readonly config: Config) {
    this.text = strings(config.language);
    this.store = new Store(config.server);
    this.connection = new Connection(config.server, this.store.state.sessionId, config.language, {
      status: (status) => this.setStatus(status),
      session: (sessionId) => this.onSession(sessionId),
      message: (message) => this.onBotMessage(message),
    });
    const t = this.text;

    this.launcher = el(
      "button",
      { type: "button", class: "sc-launcher", "aria-expanded": "false", "aria-controls": "sc-panel" },
      icon(ICONS.chat),
      el("span", { class: "sc-launcher-text" }, t.launcher),
    );
    this.launcher.setAttribute("aria-label", t.launcherLabel);

    const close = el("button", { type: "button", class: "sc-icon-button", "aria-label": t.close }, icon(ICONS.close));
    this.statusLabel = el("span", { class: "sc-status-text" }, t.connecting);
    const header = el(
      "header",
      { class: "sc-header" },
      el("div", { class: "sc-avatar" }, icon(ICONS.chat)),
      el(
        "div",
        { class: "sc-heading-group" },
        el("h2", { id: "sc-title", class: "sc-title" }, config.clinic.name),
        el(
          "p",
          { class: "sc-subtitle" },
          `${t.subtitle} · `,
          el("span", { class: "sc-status" }, el("span", { class: "sc-dot" }), this.statusLabel),
        ),
      ),
      close,
    );

    this.banner = el("div", { class: "sc-banner", role: "status" });
    this.log = el("div", { class: "sc-log", role: "log", "aria-live": "polite", "aria-labelledby": "sc-title" });
    this.typing = el(
      "div",
      { class: "sc-typing", hidden: "" },
      el("span", { class: "sc-sr" }, t.typing),
      el("span", { class: "sc-typing-dot", "aria-hidden": "true" }),
      el("span", { class: "sc-typing-dot", "aria-hidden": "true" }),
      el("span", { class: "sc-typing-dot", "aria-hidden": "true" }),
    );
    this.scroller = el("div", { class: "sc-scroll" }, this.log, this.typing);

    this.input = el("input", {
      id: "sc-input",
      class: "sc-input",
      type: "text",
      autocomplete: "off",
      enterkeyhint: "send",
      maxlength: String(config.maxMessageChars),
      placeholder: t.placeholder,
      "aria-describedby": "sc-count",
    });
    this.sendButton = el("button", { type: "submit", class: "sc-send", "aria-label": t.send }, icon(ICONS.send));
    this.counter = el("p", { id: "sc-count", class: "sc-count", "aria-live": "polite" });
    const form = el(
      "form",
      { class: "sc-form" },
      el("label", { for: "sc-input", class: "sc-sr" }, t.inputLabel),
      this.input,
      this.sendButton,
    );

    this.panel = el(
      "section",
      { id: "sc-panel", class: "sc-panel", role: "dialog", "aria-labelledby": "sc-title", hidden: "" },
      header,
      this.contactBar(),
      this.banner,
      this.scroller,
      form,
      this.counter,
      el("p", { class: "sc-notice" }, t.notice),
    );
    this.root.append(this.panel, this.launcher);

    this.launcher.addEventListener("click", () => (this.isOpen() ? this.close() : this.open(true)));
    close.addEventListener("click", () => this.close());
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        this.close();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("input", () => this.updateCounter());

    this.store.state.entries.forEach((entry, index) => this.renderEntry(entry, index));
    this.renderReplies();
  }

  /** Adds the widget to the page, and wires page elements marked data-synapse-chat-open. */
  mount(parent: HTMLElement): void {
    const host = el("div", { id: "synapse-chat" });
    const shadow = host.attachShadow({ mode: "open" });
    stylesheet(shadow);
    this.root.setAttribute("lang", this.config.language);
    shadow.append(this.root);
    parent.append(host);
    document.querySelectorAll("[data-synapse-chat-open]").forEach((opener) =>
      opener.addEventListener("click", (event) => {
        event.preventDefault();
        this.open(true);
      }),
    );
    if (this.store.state.open) this.open(false);
  }

  open(focus: boolean): void {
    this.panel.hidden = false;
    this.root.classList.add("sc-open");
    this.launcher.setAttribute("aria-expanded", "true");
    this.store.update({ open: true });
    this.connection.open();
    this.scrollToEnd();
    if (focus) this.input.focus();
  }

  close(): void {
    this.panel.hidden = true;
    this.root.classList.remove("sc-open");
    this.launcher.setAttribute("aria-expanded", "false");
    this.store.update({ open: false });
    this.launcher.focus();
  }

  private isOpen(): boolean {
    return !this.panel.hidden;
  }

  private contactBar(): HTMLElement {
    const { clinic } = this.config;
    const bar = el("div", { class: "sc-contact" });
    if (clinic.phone) {
      const call = el("a", { class: "sc-contact-link" }, icon(ICONS.phone), fill(this.text.call, { value: clinic.phone }));
      call.href = `tel:${clinic.phone.replace(/[^\d+]/g, "")}`;
      bar.append(call);
    }
    if (clinic.website) {
      const host = new URL(clinic.website).host.replace(/^www\./, "");
      const visit = el(
        "a",
        { class: "sc-contact-link", target: "_blank", rel: "noopener" },
        icon(ICONS.web),
        fill(this.text.website, { value: host }),
      );
      visit.href = clinic.website;
      bar.append(visit);
    }
    bar.append(el("strong", { class: "sc-emergency" }, this.text.emergency));
    return bar;
  }

  private setStatus(status: Status): void {
    const wasReconnecting = this.status === "reconnecting";
    this.status = status;
    this.root.setAttribute("data-status", status);
    const labels = { connecting: this.text.connecting, online: this.text.online, reconnecting: this.text.offline };
    this.statusLabel.textContent = labels[status];
    this.sendButton.setAttribute("aria-disabled", String(status !== "online"));
    window.clearTimeout(this.bannerTimer);
    if (status === "reconnecting") {
      this.showTyping(false);
      this.banner.textContent = this.text.reconnecting;
      this.banner.className = "sc-banner sc-banner-warn";
    } else if (status === "online" && wasReconnecting) {
      this.banner.textContent = this.text.reconnected;
      this.banner.className = "sc-banner sc-banner-ok";
      this.bannerTimer = window.setTimeout(() => this.clearBanner(), RECONNECTED_NOTICE_MS);
    } else {
      this.clearBanner();
    }
  }

  private clearBanner(): void {
    this.banner.textContent = "";
    this.banner.className = "sc-banner";
  }

  private onSession(sessionId: string): void {
    this.store.update({ sessionId });
    if (!this.store.state.greeted && this.connection.send(GREETING)) {
      this.store.update({ greeted: true });
      this.showTyping(true);
    }
  }

  private onBotMessage(message: BotMessage): void {
    this.showTyping(false);
    if (message.handoff) this.withPerson = message.handoff === "taken";
    this.add({
      from: "bot",
      text: message.text,
      replies: message.replies.length ? message.replies : undefined,
      staff: message.staff,
      notice: message.handoff !== undefined,
    });
  }

  private submit(): void {
    const message = this.input.value.trim();
    if (!message || this.status !== "online") return;
    if (this.send(message, message)) {
      this.input.value = "";
      this.updateCounter();
    }
  }

  private send(payload: string, shown: string): boolean {
    if (payload.length > this.config.maxMessageChars || !this.connection.send(payload)) return false;
    this.add({ from: "user", text: shown });
    if (!this.withPerson) this.showTyping(true);
    return true;
  }

  private chooseReply(reply: QuickReply): void {
    if (this.send(reply.payload, reply.title)) this.input.focus();
  }

  private add(entry: Entry): void {
    this.store.add(entry);
    const bubble = this.renderEntry(entry, this.store.state.entries.length - 1);
    this.renderReplies();
    if (entry.from === "user") this.answerStart = null;
    else if (!this.answerStart) this.answerStart = bubble;
    this.scrollToAnswer();
  }

  private renderEntry(entry: Entry, index: number): HTMLElement {
    const previous = this.store.state.entries[index - 1];
    const classes = ["sc-msg", `sc-msg-${entry.from}`];
    if (entry.staff) classes.push("sc-msg-staff");
    if (entry.notice) classes.push("sc-msg-notice");
    const sameSpeaker = previous && previous.from === entry.from && previous.staff === entry.staff;
    if (sameSpeaker && !entry.notice) classes.push("sc-msg-cont");
    const body = entry.from === "bot" ? renderBotText(entry.text) : renderUserText(entry.text);
    // A person's message says who wrote it, visibly: the patient must know it is not the bot.
    const who = entry.staff
      ? el("span", { class: "sc-staff-name" }, `${entry.staff} · ${this.text.staff}`)
      : el("span", { class: "sc-sr" }, entry.from === "bot" ? this.text.assistant : this.text.you);
    const bubble = el("div", { class: classes.join(" ") }, who, ...body);
    this.log.append(bubble);
    return bubble;
  }

  // A long answer (a quote) is read from its start: scroll to the end, but never past the
  // first bubble of the answer.
  private scrollToAnswer(): void {
    const end = this.scroller.scrollHeight - this.scroller.clientHeight;
    const start = this.answerStart ? this.answerStart.offsetTop - 12 : end;
    this.scroller.scrollTop = Math.min(end, start);
  }

  // Quick replies belong to the latest message only: once the patient has answered,
  // they are gone.
  private renderReplies(): void {
    this.replies?.remove();
    this.replies = null;
    const entries = this.store.state.entries;
    const last = entries[entries.length - 1];
    if (!last || last.from !== "bot" || !last.replies) return;
    const group = el("div", { class: "sc-replies", role: "group", "aria-label": this.text.suggestions });
    for (const reply of last.replies) {
      const button = el("button", { type: "button", class: "sc-reply" }, reply.title);
      button.addEventListener("click", () => this.chooseReply(reply));
      group.append(button);
    }
    this.replies = group;
    this.log.append(group);
  }

  private showTyping(visible: boolean): void {
    window.clearTimeout(this.typingTimer);
    this.typing.hidden = !visible;
    if (visible) {
      this.typingTimer = window.setTimeout(() => this.showTyping(false), TYPING_TIMEOUT_MS);
      this.scrollToEnd();
    }
  }

  private updateCounter(): void {
    const left = this.config.maxMessageChars - this.input.value.length;
    this.counter.textContent = left <= COUNTER_FROM ? fill(this.text.charsLeft, { n: Math.max(0, left) }) : "";
  }

  private scrollToEnd(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}
