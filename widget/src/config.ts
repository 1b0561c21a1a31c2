// Reads the widget's configuration from its own <script> tag (data-* attributes) and an
// optional JSON block, <script type="application/json" id="synapse-chat-config">. A JSON
// block is data, not code, so it works under a Content-Security-Policy without 'unsafe-inline'.

import { Language, languageOf } from "./strings";

export interface Clinic {
  name: string;
  website?: string;
  phone?: string;
}

export interface Config {
  /** The Rasa server's URL, e.g. https://bot.example.com (socket.io path /socket.io). */
  server: string;
  language: Language;
  clinic: Clinic;
  /** Longest message accepted; the server's MAX_MESSAGE_CHARS. */
  maxMessageChars: number;
}

export const CONFIG_ELEMENT_ID = "synapse-chat-config";
const DEFAULT_MAX_MESSAGE_CHARS = 2000;

type Raw = Record<string, unknown>;

function readJsonBlock(): Raw {
  const element = document.getElementById(CONFIG_ELEMENT_ID);
  if (!element || !element.textContent) return {};
  try {
    const parsed: unknown = JSON.parse(element.textContent);
    return parsed && typeof parsed === "object" ? (parsed as Raw) : {};
  } catch {
    console.error("synapse-chat: the config block is not valid JSON");
    return {};
  }
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() ? value.trim() : undefined;
}

function httpUrl(value: unknown): string | undefined {
  const candidate = text(value);
  if (!candidate) return undefined;
  try {
    const url = new URL(candidate, document.baseURI);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Returns the configuration, or null (with a console error) if no server is set. */
export function readConfig(script: HTMLScriptElement | null): Config | null {
  const json = readJsonBlock();
  const data = script ? script.dataset : {};
  const clinic = (json.clinic && typeof json.clinic === "object" ? json.clinic : {}) as Raw;
  const server = httpUrl(data.server) || httpUrl(json.server);
  if (!server) {
    console.error("synapse-chat: set data-server on the script tag to the Rasa server's URL");
    return null;
  }
  const max = Number(data.maxMessageChars ?? json.maxMessageChars);
  return {
    server: server.replace(/\/+$/, ""),
    language: languageOf(text(data.lang) || text(json.lang) || document.documentElement.lang),
    clinic: {
      name: text(data.clinicName) || text(clinic.name) || "Synapse Physiotherapy",
      website: httpUrl(data.clinicWebsite) || httpUrl(clinic.website),
      phone: text(data.clinicPhone) || text(clinic.phone),
    },
    maxMessageChars: Number.isInteger(max) && max > 0 ? max : DEFAULT_MAX_MESSAGE_CHARS,
  };
}
