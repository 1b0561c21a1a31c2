// Entry point: <script src=".../synapse-chat.js" data-server="https://bot.example" defer></script>

import { readConfig } from "./config";
import { ChatWidget } from "./widget";

declare global {
  interface Window {
    synapseChatLoaded?: boolean;
  }
}

const script = document.currentScript instanceof HTMLScriptElement ? document.currentScript : null;

function start(): void {
  if (window.synapseChatLoaded) return; // The tag was pasted twice.
  const config = readConfig(script);
  if (!config) return;
  window.synapseChatLoaded = true;
  new ChatWidget(config).mount(document.body);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
