/**
 * Summarises a V8 .cpuprofile (`node --cpu-prof`): self and inclusive time by function and by module (npm package,
 * Node internals, or directory of this repository), as shares of the process's busy (non-idle) time.
 *
 *   tsx proxy/bench/cpuprofile.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  name: string;
  ms: number;
  /** share of busy time, 0..1 */
  share: number;
}

export interface ProfileSummary {
  wallMs: number;
  busyMs: number;
  idleMs: number;
  selfByFunction: ProfileRow[];
  selfByModule: ProfileRow[];
  inclusiveByModule: ProfileRow[];
  /** inclusive time of this repository's own functions (proxy/, billing/, migrations/) */
  inclusiveOwn: ProfileRow[];
}

const ROOT = process.cwd();

function shortUrl(url: string): string {
  let u = url.replace(/^file:\/\//, "");
  if (u.startsWith(ROOT)) u = u.slice(ROOT.length + 1);
  const nm = u.lastIndexOf("node_modules/");
  if (nm >= 0) u = u.slice(nm + "node_modules/".length);
  return u;
}

function moduleOf(frame: ProfileNode["callFrame"]): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  if (url.startsWith("node:")) return "node:internal";
  const u = shortUrl(url);
  if (url.includes("node_modules/")) {
    const parts = u.split("/");
    return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? u);
  }
  const parts = u.split("/");
  if (parts[0] === "proxy" && parts[1] === "src") return parts.slice(0, parts.length > 3 ? 3 : 2).join("/");
  return parts.length > 1 ? (parts[0] ?? u) : u;
}

// Line numbers of files tsx compiled are those of its output (often 1): shown only where they mean something.
const functionKey = (f: ProfileNode["callFrame"]) =>
  f.url
    ? `${f.functionName || "(anonymous)"} ${shortUrl(f.url)}${f.lineNumber > 0 ? `:${f.lineNumber + 1}` : ""}`
    : f.functionName || "(native)";

const IDLE = new Set(["(idle)"]);

export function summarizeProfile(path: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfFn = new Map<string, number>();
  const selfMod = new Map<string, number>();
  const inclMod = new Map<string, number>();
  const inclOwn = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) continue;
    if (IDLE.has(node.callFrame.functionName)) {
      idleUs += dt;
      continue;
    }
    busyUs += dt;
    add(selfFn, functionKey(node.callFrame), dt);
    add(selfMod, moduleOf(node.callFrame), dt);
    const seenMod = new Set<string>();
    const seenOwn = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)?.callFrame;
      if (!f || f.functionName === "(root)") continue;
      const mod = moduleOf(f);
      if (!seenMod.has(mod)) {
        seenMod.add(mod);
        add(inclMod, mod, dt);
      }
      const url = shortUrl(f.url);
      if (f.url && !f.url.includes("node_modules/") && /^(proxy|billing|migrations)\//.test(url)) {
        const k = functionKey(f);
        if (!seenOwn.has(k)) {
          seenOwn.add(k);
          add(inclOwn, k, dt);
        }
      }
    }
  }
  const rows = (m: Map<string, number>, n: number): ProfileRow[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return {
    wallMs: (profile.endTime - profile.startTime) / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    selfByFunction: rows(selfFn, top),
    selfByModule: rows(selfMod, top),
    inclusiveByModule: rows(inclMod, top),
    inclusiveOwn: rows(inclOwn, top),
  };
}

export function formatProfile(s: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)} %`;
  const table = (title: string, rows: ProfileRow[]) =>
    [`${title}`, ...rows.map((r) => `  ${pct(r.share)}  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`)].join("\n");
  return [
    `profile: ${s.wallMs.toFixed(0)} ms wall, ${s.busyMs.toFixed(0)} ms busy (on the main thread), ${s.idleMs.toFixed(0)} ms idle`,
    table("self time by module (share of busy time):", s.selfByModule),
    table("inclusive time by module (a frame anywhere on the stack):", s.inclusiveByModule),
    table("self time by function:", s.selfByFunction),
    table("inclusive time of this repository's functions:", s.inclusiveOwn),
  ].join("\n\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: "string", default: "25" } },
  });
  for (const file of positionals) console.log(formatProfile(summarizeProfile(file, Number(values.top))));
}
