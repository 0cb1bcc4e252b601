/**
 * Where each decode loop spends its time, graph by graph (issue 13 §7): one process, one onnxruntime session per
 * graph shared by two engines (`--decode-loop host` and `resident`), the same requests run on each in ABBA order;
 * prints the wall time, calls and ms per call of every graph per loop, so the resident loop's extra calls
 * (cache_flush, cache_pad, cache_concat, cache_gather) and its step's cost show beside the host loop's.
 *
 *   npx tsx gpu-node/bench/loop-graphs.ts [--model /work/models/small] [--beams 1] [--requests 16]
 *                                         [--max-tokens N] [--order host,resident,resident,host] [--calls]
 *                                         [--graph-cache]
 *
 * The resident loop's cache operations are host copies (`cache_host`) as on the CPU provider, or with `--graph-cache`
 * the cache graphs, as in device memory. `--calls` lists every cache_* call of the resident loop with its input shape and time. The figures are graph
 * wall times on the calling thread (2 intra-op threads, as the benches' nodes), not CPU seconds.
 */
import { parseArgs } from "node:util";
import { openModelBackend } from "../src/adapters/model-backend.ts";
import { frontEndOptions, readModelDir } from "../src/adapters/model-dir.ts";
import type { InferenceBackend } from "../src/engine/backend.ts";
import { Engine } from "../src/engine/engine.ts";
import { VoiceBank } from "../src/model/voices.ts";
import { defaultTestOptions } from "../src/testing/harness.ts";
import { TextFrontEnd } from "../src/text/tokenizer.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "/work/models/small" },
    beams: { type: "string", default: "1" },
    requests: { type: "string", default: "16" },
    "max-tokens": { type: "string" },
    order: { type: "string", default: "host,resident,resident,host" },
    calls: { type: "boolean", default: false },
    "graph-cache": { type: "boolean", default: false },
  },
});
type Loop = "host" | "resident";
const files = await readModelDir(values.model);
const backend = await openModelBackend(files, {
  executionProviders: ["cpu"],
  intraOpThreads: 2,
  interOpThreads: 1,
  intraOpSpinning: false,
});
const times: Record<Loop, Map<string, { ms: number; calls: number }>> = { host: new Map(), resident: new Map() };
const calls: string[] = [];
let current: Loop = "host";
const timed: InferenceBackend = {
  run: async (graph, feeds, keep, into) => {
    const t = performance.now();
    const out = await backend.run(graph, feeds, keep, into);
    const ms = performance.now() - t;
    const entry = times[current].get(graph) ?? { ms: 0, calls: 0 };
    times[current].set(graph, { ms: entry.ms + ms, calls: entry.calls + 1 });
    if (values.calls && graph.startsWith("cache_")) {
      const shape = (feeds.in_key_0 ?? feeds.a_key_0)?.dims.join("×");
      calls.push(`${graph} ${shape} ${ms.toFixed(1)} ms`);
    }
    return out;
  },
  signature: (graph) => backend.signature(graph),
  release: (tensor) => backend.release(tensor),
  rows: (tensor, start, count) => backend.rows(tensor, start, count),
  // the resident loop's cache operations as copies in host memory, timed as `cache_host`; `--graph-cache` leaves
  // them to the cache graphs, as in device memory
  hostMemory: () => {
    const memory = backend.hostMemory();
    if (!memory || values["graph-cache"]) return undefined;
    return {
      alloc: (type, dims) => memory.alloc(type, dims),
      copy: (copies) => {
        const t = performance.now();
        memory.copy(copies);
        const entry = times[current].get("cache_host") ?? { ms: 0, calls: 0 };
        times[current].set("cache_host", { ms: entry.ms + performance.now() - t, calls: entry.calls + 1 });
      },
    };
  },
  close: () => backend.close(),
};
const voices = new VoiceBank(files.manifest, files.voices, files.emotions);
const text = new TextFrontEnd(files.bpe, frontEndOptions(files));
const engines = {
  host: engine("host"),
  resident: engine("resident"),
};
function engine(decodeLoop: Loop): Engine {
  return new Engine({
    backend: timed,
    manifest: files.manifest,
    options: { ...defaultTestOptions, maxBatch: 48, maxQueue: 256, requestTimeoutMs: 600_000, decodeLoop },
    yieldToEventLoop: () => new Promise((resolve) => setImmediate(resolve)),
  });
}
const TEXTS = [
  "Hello, this is a test of the speech service.",
  "Good morning, the meeting starts at nine.",
  "今天的天气非常好,适合出去散步。",
  "Please confirm your order number.",
];
const wall: Record<Loop, number> = { host: 0, resident: 0 };
const maxTokens = values["max-tokens"] === undefined ? {} : { maxTokens: Number(values["max-tokens"]) };
for (const loop of values.order.split(",") as Loop[]) {
  current = loop;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: Number(values.requests) }, (_, i) => {
      const voice = voices.get(i % 3);
      return engines[loop].submit({
        id: `r${i}`,
        segments: text.segments(TEXTS[i % TEXTS.length] ?? "").map((s) => s.ids),
        voice,
        emoVec: voices.emotionVector(voice, { kind: "none" }),
        speed: 1,
        seed: i,
        priority: "interactive",
        ...maxTokens,
        sampling: { numBeams: Number(values.beams) },
      });
    }),
  );
  wall[loop] += performance.now() - t;
}
console.log(`model ${values.model}, beams ${values.beams}, ${values.requests} requests, order ${values.order}`);
console.log(`wall: host ${wall.host.toFixed(0)} ms, resident ${wall.resident.toFixed(0)} ms`);
console.log("| graph | host ms | calls | ms/call | resident ms | calls | ms/call |");
console.log("|---|---|---|---|---|---|---|");
const graphs = [...new Set([...times.host.keys(), ...times.resident.keys()])];
const total = (g: string) => (times.host.get(g)?.ms ?? 0) + (times.resident.get(g)?.ms ?? 0);
for (const g of graphs.sort((a, b) => total(b) - total(a))) {
  const cell = (loop: Loop) => {
    const e = times[loop].get(g);
    return e ? `${e.ms.toFixed(0)} | ${e.calls} | ${(e.ms / e.calls).toFixed(1)}` : "– | – | –";
  };
  console.log(`| ${g} | ${cell("host")} | ${cell("resident")} |`);
}
if (values.calls) console.log(calls.join("\n"));
for (const e of Object.values(engines)) await e.destroy();
await backend.close();
