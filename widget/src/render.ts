// Turns message text into elements. Text only ever reaches the page through text nodes
// (textContent): no innerHTML, no markdown, and links only for http(s) URLs, so a message
// such as <img onerror=…> or [x](javascript:…) shows as the characters it is.

type Attributes = Record<string, string>;

/** Creates an element with attributes and text or children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)]/g;

/** Returns a line as text nodes, with http(s) URLs as links that open in a new tab. */
export function linkify(line: string): Node[] {
  const nodes: Node[] = [];
  let last = 0;
  for (const match of line.matchAll(URL_PATTERN)) {
    const start = match.index ?? 0;
    let href: URL | null = null;
    try {
      href = new URL(match[0]);
    } catch {
      href = null;
    }
    if (!href || (href.protocol !== "http:" && href.protocol !== "https:")) continue;
    nodes.push(document.createTextNode(line.slice(last, start)));
    const link = el("a", { target: "_blank", rel: "noopener noreferrer" }, match[0]);
    link.href = href.href;
    nodes.push(link);
    last = start + match[0].length;
  }
  nodes.push(document.createTextNode(line.slice(last)));
  return nodes;
}

// A quote block from the knowledge file arrives as "Heading\nParagraph…": a short first
// line that does not end a sentence or introduce a list (FAQ headings end with "?").
function isHeading(line: string, lines: string[]): boolean {
  return lines.length > 1 && line.length <= 120 && !/[.:!,;]$/.test(line);
}

/** Returns a bot message as elements: a heading when it starts with one, one <p> a line. */
export function renderBotText(text: string): HTMLElement[] {
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  return lines.map((line, index) =>
    index === 0 && isHeading(line, lines)
      ? el("p", { class: "sc-heading" }, el("strong", {}, line))
      : el("p", line.startsWith("•") ? { class: "sc-bullet" } : {}, ...linkify(line)),
  );
}

/** Returns a user message as one paragraph of plain text. */
export function renderUserText(text: string): HTMLElement[] {
  return [el("p", {}, text)];
}

const SVG = "http://www.w3.org/2000/svg";

/** Returns a decorative icon drawn from SVG path data (static, never message content). */
export function icon(path: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const shape = document.createElementNS(SVG, "path");
  shape.setAttribute("d", path);
  svg.append(shape);
  return svg;
}

export const ICONS = {
  chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
  close: "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z",
  send: "M3 20.5v-7l9-1.5-9-1.5v-7L22 12z",
  phone:
    "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z",
  web: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm6.9 6h-2.9a15.7 15.7 0 0 0-1.4-3.6A8 8 0 0 1 18.9 8zM12 4a14 14 0 0 1 1.9 4h-3.8A14 14 0 0 1 12 4zM4.3 14a8.2 8.2 0 0 1 0-4h3.4a16.5 16.5 0 0 0 0 4zm.8 2h2.9a15.7 15.7 0 0 0 1.4 3.6A8 8 0 0 1 5.1 16zM8 8H5.1a8 8 0 0 1 4.3-3.6A15.7 15.7 0 0 0 8 8zm4 12a14 14 0 0 1-1.9-4h3.8A14 14 0 0 1 12 20zm2.3-6H9.7a14.7 14.7 0 0 1 0-4h4.6a14.7 14.7 0 0 1 0 4zm.3 5.6a15.7 15.7 0 0 0 1.4-3.6h2.9a8 8 0 0 1-4.3 3.6zm1.7-5.6a16.5 16.5 0 0 0 0-4h3.4a8.2 8.2 0 0 1 0 4z",
};
