// JSON with comments and trailing commas (JSONC), as VS Code reads settings and registry files:
// the user's files in the data folder may be written the same way.

/** Removes // and /* *\/ comments and trailing commas outside strings, then parses. */
export function parseJsonc(text: string): unknown {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (char === '"') {
      const end = stringEnd(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (char === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (char === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      // A trailing comma (outside strings) before a closing bracket is dropped.
      if (char === "}" || char === "]") out = out.replace(/,\s*$/, "");
      out += char;
      i++;
    }
  }
  return JSON.parse(out) as unknown;
}

/** The index just past the string literal starting at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return Math.min(i + 1, text.length);
}
