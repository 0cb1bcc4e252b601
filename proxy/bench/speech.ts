/**
 * Speech benchmark: time to first audio byte (TTFA) streamed vs not, and the cost of encoding each format.
 *
 *   npm run bench:speech -- [--requests 12] [--concurrency 1,8] [--format wav] [--encode-seconds N]
 *                           [--compare-model /work/models/small --compare-requests 2]
 *
 * Three processes on 127.0.0.1: a real gpu-node (onnxruntime, the committed tiny random-weight model: its audio is
 * noise, its compute the pipeline's shape), the real proxy (`proxy/src/entry.node.ts`, SQLite in a temp DATA_DIR) and
 * this generator. One text of four sentences, each its own piece (SPEECH_PIECE_MAX_CHARS=100), is asked for whole (no
 * stream_format) and streamed (stream_format "audio"), interleaved, at each concurrency. TTFA is the time to the first
 * body byte; for a whole answer it is the answer's latency. Then, in this process, every format encodes the node's
 * own audio (audio/encode.ts, a whole file: by default exactly the answer's audio, so the share is the one a request
 * pays; `--encode-seconds` loops it to another length) and its cost per audio second is set against the node's
 * synthesis per audio second measured above (concurrency 1). Both as CPU time — this process's while it encodes
 * (AAC's worker thread included), the node process's (all its threads) while it synthesises — since on a shared
 * machine wall time swings with everyone else's load; wall figures are printed beside. A 1 s answer's encoding CPU
 * is printed too: the per-answer fixed cost (an encoder's set-up: a worker thread for AAC, WASM instances).
 *
 * The committed tiny model is far cheaper per audio second than IndexTTS2 (its graphs are toy-sized), so it is the
 * harshest denominator. `--compare-model DIR` starts a second node on a larger model (e.g. the `small` random-weight
 * model, `npm run model:generate -- --size small`, not committed) and times its whole answers at the node, one at a
 * time, to set the same encoding costs against its synthesis time too.
 */
import { mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { encodeAll } from "../../audio/encode.ts";
import { AUDIO_FORMATS } from "../../audio/formats.ts";
import { pcm16FromBytes } from "../../audio/pcm.ts";
import { measureWav, pcmData } from "../../audio/wav.ts";
import { startChild } from "./children.ts";
import { processCpuMs } from "./cpu.ts";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "12" },
    concurrency: { type: "string", default: "1,8" },
    format: { type: "string", default: "wav" },
    /** default: the answer's own length */
    "encode-seconds": { type: "string" },
    "compare-model": { type: "string" },
    "compare-requests": { type: "string", default: "2" },
  },
});
const ADMIN = "bench-speech-admin-token-0123456789";
const SENTENCES = [
  "The quick brown fox jumps over the lazy dog near the quiet river bank at dawn.",
  "Streaming speech sends the first sentence while the others are still being made.",
  "Every piece of audio is metered before it leaves, so nothing is ever given away.",
  "Long texts are split into pieces that the node can batch with other requests.",
];
const TEXT = SENTENCES.join(" ");

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN);
const ms = (v: number) => `${v.toFixed(0)} ms`;

async function main() {
  const node = await startChild("gpu-node", ["--import", "tsx", "gpu-node/src/entry.node.ts"], {
    env: { GPU_NODE_PORT: "0", GPU_NODE_MAX_BATCH: "16", GPU_NODE_INTRA_OP_THREADS: "1" },
    ready: /gpu-node listening on (http:\/\/[^\s]+)/,
    timeoutMs: 120_000,
  });
  const proxy = await startChild("proxy", ["--import", "tsx", "proxy/src/entry.node.ts"], {
    env: {
      PORT: "0",
      DATA_DIR: mkdtempSync(join(tmpdir(), "bench-speech-")),
      ADMIN_TOKEN: ADMIN,
      GPU_NODES: node.ready,
      IP_RATE_PER_SECOND: "100000",
      IP_BURST: "100000",
      // one sentence per piece: the text below is four pieces, as a node would make four segments of it
      SPEECH_PIECE_MAX_CHARS: "100",
    },
    ready: /proxy listening on (http:\/\/[^\s]+)/,
    // a loaded machine (other work beside the bench) can take a while to compile the proxy's TypeScript
    timeoutMs: 120_000,
  }).catch(async (e: unknown) => {
    await node.stop();
    throw e;
  });
  try {
    const admin = async (method: string, path: string, body?: unknown) =>
      (await (
        await fetch(`${proxy.ready}${path}`, {
          method,
          headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        })
      ).json()) as Record<string, unknown>;
    await admin("PUT", "/admin/plans/bench", {
      kind: "basic",
      name: "Bench",
      currency: "USD",
      time_zone: "UTC",
      requests_per_second: 100000,
      burst: 100000,
      max_in_flight: 1000,
    });
    await admin("POST", "/admin/plans/bench/prices", { unit_price_micros_per_1k_tokens: 1000 });
    const customer = (await admin("POST", "/admin/customers", {
      name: "B",
      email: "b@example.com",
      plan_id: "bench",
    })) as {
      customer: { id: string };
    };
    const { key } = (await admin("POST", `/admin/customers/${customer.customer.id}/keys`)) as { key: string };

    let refusals = 0;
    const once = async (streamed: boolean): Promise<{ ttfa: number; total: number; body: Buffer }> => {
      for (;;) {
        try {
          return await attempt(streamed);
        } catch (e) {
          // a node whose /healthz timed out on a saturated machine is out of the pool for a moment: count, go again
          if (!String(e).startsWith("Error: 503")) throw e;
          refusals++;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    const attempt = async (streamed: boolean) => {
      const started = performance.now();
      const res = await fetch(`${proxy.ready}/v1/audio/speech`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "tts-1",
          voice: "alloy",
          input: TEXT,
          response_format: args.format,
          ...(streamed ? { stream_format: "audio" } : {}),
        }),
      });
      if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let first = Number.NaN;
      const chunks: Uint8Array[] = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (Number.isNaN(first) && value.byteLength > 0) first = performance.now() - started;
        chunks.push(value);
      }
      return { ttfa: first, total: performance.now() - started, body: Buffer.concat(chunks) };
    };

    // warm-up: sessions, JIT, the encoders' WASM
    await once(false);
    await once(true);
    const wav = (await once(false)).body;
    const measured = measureWav(new Uint8Array(wav));
    if (!measured.ok) throw new Error(measured.reason);
    const audioSeconds = measured.wav.durationMs / 1000;

    console.log(
      `speech bench: text of ${SENTENCES.length} sentences (${[...TEXT].length} chars) → ${audioSeconds.toFixed(2)} s of audio, format ${args.format}; load average ${loadavg()[0]?.toFixed(2)}`,
    );
    console.log("| concurrency | mode | requests | TTFA p50 | TTFA p95 | total p50 | total p95 |");
    console.log("|---|---|---|---|---|---|---|");
    const results: Record<string, { ttfa: number[]; total: number[] }> = {};
    let synthesisMsPerAudioSecond = Number.NaN;
    /** the node process's own CPU time (all its threads) per audio second: what a loaded machine barely changes */
    let synthesisCpuMsPerAudioSecond = Number.NaN;
    for (const concurrency of args.concurrency.split(",").map(Number)) {
      const rounds = Number(args.requests);
      const nodeCpuBefore = processCpuMs(node.proc.pid ?? 0);
      const r = {
        whole: { ttfa: [] as number[], total: [] as number[] },
        streamed: { ttfa: [] as number[], total: [] as number[] },
      };
      // interleaved rounds of `concurrency` requests, whole then streamed: both see the same machine
      for (let round = 0; round < Math.ceil(rounds / concurrency); round++) {
        for (const mode of ["whole", "streamed"] as const) {
          const batch = await Promise.all(Array.from({ length: concurrency }, () => once(mode === "streamed")));
          for (const b of batch) {
            r[mode].ttfa.push(b.ttfa);
            r[mode].total.push(b.total);
          }
        }
      }
      for (const mode of ["whole", "streamed"] as const) {
        const t = [...r[mode].ttfa].sort((a, b) => a - b);
        const tot = [...r[mode].total].sort((a, b) => a - b);
        results[`${concurrency}/${mode}`] = { ttfa: t, total: tot };
        console.log(
          `| ${concurrency} | ${mode} | ${t.length} | ${ms(quantile(t, 0.5))} | ${ms(quantile(t, 0.95))} | ${ms(quantile(tot, 0.5))} | ${ms(quantile(tot, 0.95))} |`,
        );
      }
      if (concurrency === 1)
        synthesisCpuMsPerAudioSecond =
          (processCpuMs(node.proc.pid ?? 0) - nodeCpuBefore) /
          ((r.whole.total.length + r.streamed.total.length) * audioSeconds);
      if (concurrency === 1)
        synthesisMsPerAudioSecond =
          quantile(
            r.whole.total.sort((a, b) => a - b),
            0.5,
          ) / audioSeconds;
      const ratio = quantile(r.streamed.ttfa, 0.5) / quantile(r.whole.ttfa, 0.5);
      console.log(`|  | streamed TTFA p50 / whole p50 | | **${ratio.toFixed(3)}** (target ≤ 0.333) | | | |`);
    }

    console.log(`(503 NO_CAPACITY answers retried: ${refusals})`);

    // encoding cost: the node's own audio, looped up to --encode-seconds
    const data = pcmData(new Uint8Array(wav));
    if (!data) throw new Error("no PCM");
    const one = pcm16FromBytes(data.slice());
    const rate = measured.wav.sampleRate;
    const encodeSeconds = args["encode-seconds"] === undefined ? one.length / rate : Number(args["encode-seconds"]);
    const target = Math.round(encodeSeconds * rate);
    const pcm = new Int16Array(target);
    for (let at = 0; at < target; at += one.length) pcm.set(one.subarray(0, Math.min(one.length, target - at)), at);
    const compared = args["compare-model"]
      ? await compareModel(args["compare-model"]).catch((e: unknown) => {
          console.log(`(the compare model's run failed: ${String(e).slice(0, 300)})`);
          return null;
        })
      : null;
    console.log(
      `\nencoding ${encodeSeconds.toFixed(2)} s of the node's audio (whole files, in-process, after one warm-up each, median of 3), load average ${loadavg()[0]?.toFixed(2)}.`,
    );
    console.log(
      `Synthesis per audio second: tiny ${synthesisCpuMsPerAudioSecond.toFixed(0)} ms of the node's CPU (${synthesisMsPerAudioSecond.toFixed(0)} ms wall, whole answers through the proxy, concurrency 1)${compared ? `; ${compared.label} ${compared.cpuMsPerAudioSecond.toFixed(0)} ms of CPU (${compared.msPerAudioSecond.toFixed(0)} ms wall, at its node, one request)` : ""}.`,
    );
    console.log(
      "Shares are CPU over CPU (this process's CPU time while encoding; the node's while synthesising): on a shared machine wall time swings with the others' load, CPU time much less.",
    );
    console.log(
      `| format | bytes | encode CPU ms per audio s | share of tiny synthesis |${compared ? ` share of ${compared.label} synthesis |` : ""} encode wall ms per audio s | 1 s answer: encode CPU ms |`,
    );
    console.log(`|---|---|---|---|${compared ? "---|" : ""}---|---|`);
    const median = async (format: (typeof AUDIO_FORMATS)[number], samples: Int16Array) => {
      const runs: { wall: number; cpu: number }[] = [];
      let bytes = 0;
      for (let i = 0; i < 3; i++) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        bytes = (await encodeAll(format, samples, rate)).byteLength;
        const cpu = process.cpuUsage(cpu0);
        runs.push({ wall: performance.now() - t0, cpu: (cpu.user + cpu.system) / 1000 });
      }
      const mid = (k: "wall" | "cpu") => runs.map((r) => r[k]).sort((a, b) => a - b)[1] ?? Number.NaN;
      return { wall: mid("wall"), cpu: mid("cpu"), bytes };
    };
    for (const format of AUDIO_FORMATS) {
      await encodeAll(format, pcm.subarray(0, rate), rate);
      const whole = await median(format, pcm);
      const oneSecond = await median(format, pcm.subarray(0, rate));
      const seconds = pcm.length / rate;
      const cpuPerSecond = whole.cpu / seconds;
      const share = (d: number) => `${((cpuPerSecond / d) * 100).toFixed(2)} %`;
      console.log(
        `| ${format} | ${whole.bytes} | ${cpuPerSecond.toFixed(2)} | ${share(synthesisCpuMsPerAudioSecond)} |${compared ? ` ${share(compared.cpuMsPerAudioSecond)} |` : ""} ${(whole.wall / seconds).toFixed(2)} | ${oneSecond.cpu.toFixed(1)} |`,
      );
    }
  } finally {
    await proxy.stop();
    await node.stop();
  }
}

/**
 * A node on another model, asked for the first sentence whole (its default beams, a deadline long enough for a
 * loaded CPU), one request at a time after a short warm-up: ms per audio second.
 */
async function compareModel(
  dir: string,
): Promise<{ label: string; msPerAudioSecond: number; cpuMsPerAudioSecond: number }> {
  const node = await startChild("gpu-node (compare)", ["--import", "tsx", "gpu-node/src/entry.node.ts"], {
    env: {
      GPU_NODE_PORT: "0",
      GPU_NODE_MODEL: dir,
      GPU_NODE_MAX_BATCH: "16",
      GPU_NODE_INTRA_OP_THREADS: "1",
      GPU_NODE_REQUEST_TIMEOUT_MS: "900000",
    },
    ready: /gpu-node listening on (http:\/\/[^\s]+)/,
    timeoutMs: 300_000,
  });
  try {
    const info = (await (await fetch(`${node.ready}/info`)).json()) as { model: { name: string; size?: string } };
    const ask = async (extra: Record<string, unknown> = {}) => {
      const t0 = performance.now();
      const res = await fetch(`${node.ready}/synthesize`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: SENTENCES[0], speaker_id: 0, seed: 1, deadline_ms: 600_000, ...extra }),
      });
      if (res.status !== 200) throw new Error(`compare node: ${res.status} ${await res.text()}`);
      const wav = measureWav(new Uint8Array(await res.arrayBuffer()));
      if (!wav.ok) throw new Error(wav.reason);
      return { ms: performance.now() - t0, audioSeconds: wav.wav.durationMs / 1000 };
    };
    await ask({ max_tokens: 5 }); // warm-up: sessions, first-call allocations
    let ms = 0;
    let seconds = 0;
    const cpuBefore = processCpuMs(node.proc.pid ?? 0);
    for (let i = 0; i < Number(args["compare-requests"]); i++) {
      const r = await ask();
      ms += r.ms;
      seconds += r.audioSeconds;
    }
    return {
      label: `${info.model.size ?? info.model.name} model`,
      msPerAudioSecond: ms / seconds,
      cpuMsPerAudioSecond: (processCpuMs(node.proc.pid ?? 0) - cpuBefore) / seconds,
    };
  } finally {
    await node.stop();
  }
}

await main();
