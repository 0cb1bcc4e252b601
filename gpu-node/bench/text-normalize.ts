/**
 * npx tsx gpu-node/bench/text-normalize.ts — CPU time of `prepareText` (the normaliser runs synchronously on the
 * request path) on 2,000-character texts, the manifest's `max_text_chars`: ordinary Chinese and English, and
 * adversarial runs (long digit strings, long operator chains, dash chains, punctuation runs). CPU time, not wall
 * time, so a loaded shared machine inflates it less; each figure is the mean of five runs after one warm-up.
 */
import { loadavg } from "node:os";
import { prepareText } from "../src/text/normalize.ts";

const TEXTS: Record<string, string> = {
  "zh ordinary": "会议将于2025年3月15日下午2点30分在三楼会议室举行，预计有1,200人参加，费用约为￥35.5万元。"
    .repeat(40)
    .slice(0, 2000),
  "en ordinary": "The meeting on Jan. 5, 2012 at 10:30 a.m. cost $1,234.56 and 3.5kg of stuff, call 123-456-7890. "
    .repeat(25)
    .slice(0, 2000),
  "zh 1,999 digits": `数${"1".repeat(1999)}`,
  "zh 1+1+…": `算${"1+".repeat(999)}`,
  "en 1-1-…": `a ${"1-".repeat(999)}`,
  "en punctuation run": `a${"!?.,".repeat(500)}`.slice(0, 2000),
};

console.log(`load average ${loadavg()[0]?.toFixed(1)}`);
for (const [name, text] of Object.entries(TEXTS)) {
  prepareText(text);
  const start = process.cpuUsage();
  for (let r = 0; r < 5; r++) prepareText(text);
  const used = process.cpuUsage(start);
  console.log(
    `${name.padEnd(20)} ${String(text.length).padStart(5)} chars  ${((used.user + used.system) / 5000).toFixed(0)} ms CPU`,
  );
}
