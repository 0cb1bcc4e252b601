/** Writes a report as report.md, report.html, report.json, steps.csv and windows.csv into a folder. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stepsCsv, windowsCsv } from "./csv.ts";
import { renderHtml } from "./html.ts";
import { renderMarkdown } from "./markdown.ts";
import type { Report } from "./types.ts";

export function writeReport(r: Report, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    ["report.md", renderMarkdown(r)],
    ["report.html", renderHtml(r)],
    ["report.json", `${JSON.stringify(r, null, 2)}\n`],
    ["steps.csv", stepsCsv(r.steps)],
    ["windows.csv", windowsCsv(r.steps.flatMap((s) => s.windows))],
  ];
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return files.map(([name]) => join(dir, name));
}
