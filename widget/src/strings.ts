// The widget's own wording in English and Malay. The bot's replies come from the server
// in the conversation's language; these are only the labels around them.

export type Language = "en" | "ms";

export interface Strings {
  launcher: string;
  launcherLabel: string;
  subtitle: string;
  close: string;
  connecting: string;
  online: string;
  reconnecting: string;
  offline: string;
  reconnected: string;
  inputLabel: string;
  placeholder: string;
  send: string;
  charsLeft: string;
  typing: string;
  you: string;
  assistant: string;
  staff: string;
  suggestions: string;
  emergency: string;
  call: string;
  website: string;
  notice: string;
}

const STRINGS: Record<Language, Strings> = {
  en: {
    launcher: "Ask us",
    launcherLabel: "Ask us about muscle atrophy (opens the chat)",
    subtitle: "Muscle atrophy assistant",
    close: "Close the chat",
    connecting: "Connecting…",
    online: "Online",
    reconnecting: "Connection lost. Reconnecting…",
    offline: "Reconnecting…",
    reconnected: "Connected again.",
    inputLabel: "Your question",
    placeholder: "Type your question…",
    send: "Send",
    charsLeft: "{n} characters left",
    typing: "The assistant is typing…",
    you: "You said:",
    assistant: "The assistant said:",
    staff: "clinic staff",
    suggestions: "Suggested topics",
    emergency: "Emergency? Call 999.",
    call: "Call {value}",
    website: "Visit {value}",
    notice: "Answers quote our article. General information, not a diagnosis.",
  },
  ms: {
    launcher: "Tanya kami",
    launcherLabel: "Tanya kami tentang atrofi otot (buka sembang)",
    subtitle: "Pembantu atrofi otot",
    close: "Tutup sembang",
    connecting: "Menyambung…",
    online: "Dalam talian",
    reconnecting: "Sambungan terputus. Menyambung semula…",
    offline: "Menyambung semula…",
    reconnected: "Bersambung semula.",
    inputLabel: "Soalan anda",
    placeholder: "Taip soalan anda…",
    send: "Hantar",
    charsLeft: "{n} aksara lagi",
    typing: "Pembantu sedang menaip…",
    you: "Anda berkata:",
    assistant: "Pembantu berkata:",
    staff: "kakitangan klinik",
    suggestions: "Topik cadangan",
    emergency: "Kecemasan? Hubungi 999.",
    call: "Hubungi {value}",
    website: "Layari {value}",
    notice: "Jawapan memetik artikel kami. Maklumat umum, bukan diagnosis.",
  },
};

/** Returns the UI strings for a language. */
export function strings(language: Language): Strings {
  return STRINGS[language];
}

/** Returns a string with its {placeholders} filled. */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (match, key: string) =>
    key in values ? String(values[key]) : match,
  );
}

/** Chooses Malay for a `ms…` code (ms, ms-MY), English otherwise. */
export function languageOf(code: string | null | undefined): Language {
  return code && code.toLowerCase().startsWith("ms") ? "ms" : "en";
}
