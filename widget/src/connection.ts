// The link to Rasa's socket.io channel: joins the session on every (re)connection and
// reports the connection's state and the bot's messages.

import { io, Socket } from "socket.io-client";
import { QuickReply } from "./store";
import { Language } from "./strings";

export type Status = "connecting" | "online" | "reconnecting";

export interface BotMessage {
  text: string;
  replies: QuickReply[];
  /** The member of staff who wrote it, when a person has taken the conversation. */
  staff?: string;
  /** A change of who is chatting ("taken", "returned", "timed_out"), shown as a notice. */
  handoff?: string;
}

export interface ConnectionEvents {
  status(status: Status): void;
  session(sessionId: string): void;
  message(message: BotMessage): void;
}

function repliesOf(raw: Record<string, unknown>): QuickReply[] {
  const list = raw.quick_replies ?? raw.buttons;
  if (!Array.isArray(list)) return [];
  return list
    .map((item) => item as Record<string, unknown>)
    .filter((item) => typeof item.title === "string" && typeof item.payload === "string")
    .map((item) => ({ title: item.title as string, payload: item.payload as string }));
}

/** Returns the bot message in a bot_uttered event, or null if it has nothing to show. */
export function parseBotMessage(raw: unknown): BotMessage | null {
  if (!raw || typeof raw !== "object") return null;
  const record = raw as Record<string, unknown>;
  const text = typeof record.text === "string" ? record.text : "";
  const replies = repliesOf(record);
  if (!text.trim() && !replies.length) return null;
  const message: BotMessage = { text, replies };
  const staff = record.staff as Record<string, unknown> | undefined;
  if (typeof record.handoff === "string") message.handoff = record.handoff;
  else if (staff && typeof staff === "object" && typeof staff.name === "string") message.staff = staff.name;
  return message;
}

export class Connection {
  private readonly socket: Socket;
  private sessionId: string;
  private everOnline = false;
  private ready = false;

  constructor(
    server: string,
    sessionId: string,
    private readonly language: Language,
    private readonly events: ConnectionEvents,
  ) {
    this.sessionId = sessionId;
    // Rasa serves socket.io at /socket.io and speaks Engine.IO 4 (socket.io-client 3/4).
    this.socket = io(server, {
      path: "/socket.io",
      autoConnect: false,
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
    });
    this.socket.on("connect", () => this.socket.emit("session_request", { session_id: this.sessionId }));
    this.socket.on("session_confirm", (confirmed: unknown) => {
      // The server replaces an id it cannot use; the conversation continues under its id.
      if (typeof confirmed === "string" && confirmed) this.sessionId = confirmed;
      this.everOnline = true;
      this.ready = true;
      this.events.session(this.sessionId);
      this.events.status("online");
    });
    this.socket.on("bot_uttered", (raw: unknown) => {
      const message = parseBotMessage(raw);
      if (message) this.events.message(message);
    });
    this.socket.on("disconnect", (reason) => {
      this.ready = false;
      this.events.status(this.everOnline ? "reconnecting" : "connecting");
      // A server-side disconnect is not retried by socket.io itself.
      if (reason === "io server disconnect") this.socket.connect();
    });
    this.socket.on("connect_error", () => {
      this.events.status(this.everOnline ? "reconnecting" : "connecting");
    });
  }

  open(): void {
    if (!this.socket.connected && !this.socket.active) {
      this.events.status(this.everOnline ? "reconnecting" : "connecting");
      this.socket.connect();
    }
  }

  /** Sends a message with the page's language as metadata: the bot answers a message
   *  whose text does not show its language ("/greet", "ok") in the page's. */
  send(message: string): boolean {
    if (!this.ready) return false;
    const metadata = { language: this.language };
    this.socket.emit("user_uttered", { message, session_id: this.sessionId, metadata });
    return true;
  }
}
