// The conversation as this browser tab remembers it: a random session id (never anything
// personal) and the transcript, kept in sessionStorage so a reload continues the same
// conversation and closing the tab forgets it.

export interface QuickReply {
  title: string;
  payload: string;
}

export interface Entry {
  from: "user" | "bot";
  text: string;
  replies?: QuickReply[];
  staff?: string;
  notice?: boolean;
}

export interface State {
  sessionId: string;
  greeted: boolean;
  open: boolean;
  entries: Entry[];
}

const MAX_ENTRIES = 200;

/** Returns a random (version 4) UUID; crypto.randomUUID needs a secure context, this does not. */
export function randomUuid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // Storage disabled: the conversation lasts until the page is left.
  }
}

function isEntry(value: unknown): value is Entry {
  const entry = value as Entry;
  return (
    !!entry && (entry.from === "user" || entry.from === "bot") && typeof entry.text === "string"
  );
}

export class Store {
  readonly state: State;
  private readonly key: string;

  constructor(server: string) {
    this.key = `synapse-chat:${server}`;
    this.state = this.load() || { sessionId: randomUuid(), greeted: false, open: false, entries: [] };
  }

  add(entry: Entry): void {
    this.state.entries.push(entry);
    this.state.entries.splice(0, Math.max(0, this.state.entries.length - MAX_ENTRIES));
    this.save();
  }

  update(changes: Partial<State>): void {
    Object.assign(this.state, changes);
    this.save();
  }

  private load(): State | null {
    try {
      const raw = storage()?.getItem(this.key);
      const parsed = raw ? (JSON.parse(raw) as State) : null;
      if (!parsed || typeof parsed.sessionId !== "string" || !Array.isArray(parsed.entries)) return null;
      return {
        sessionId: parsed.sessionId,
        greeted: parsed.greeted === true,
        open: parsed.open === true,
        entries: parsed.entries.filter(isEntry),
      };
    } catch {
      return null;
    }
  }

  private save(): void {
    try {
      storage()?.setItem(this.key, JSON.stringify(this.state));
    } catch {
      // Full or disabled storage only costs the transcript on reload.
    }
  }
}
