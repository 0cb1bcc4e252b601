/**
 * The live progress line: one line per window, rewritten in place on a terminal (or printed line by line when the
 * output is a file or a pipe), on stderr so stdout stays clean for the summary.
 */
import type { WindowSummary } from "./stats.ts";

const s = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${ms.toFixed(0)}ms`);

export function progressLine(w: WindowSummary, elapsedS: number): string {
  const f = w.failures;
  const load = w.unit === "users" ? `${w.load} users` : `${w.load.toFixed(1)} req/s offered`;
  return [
    `[${elapsedS.toFixed(0).padStart(4)}s] ${w.phase}/${w.step}`,
    load,
    `${w.rps.toFixed(1)} ok/s`,
    `p50 ${s(w.latency.p50)} p95 ${s(w.latency.p95)} p99 ${s(w.latency.p99)}`,
    `ttfb p95 ${s(w.ttfb.p95)}`,
    `fail ${f.total} (429 ${f.http429}, 5xx ${f.http5xx}, net ${f.transport}, drop ${f.dropped})`,
    `audio ${w.audioSecondsPerSecond.toFixed(1)} s/s`,
    `rtf p50 ${w.rtf.p50.toFixed(2)}`,
    `in-flight ${w.inFlight}`,
  ].join(" | ");
}

export interface Progress {
  window(w: WindowSummary, elapsedS: number): void;
  note(line: string): void;
  done(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): Progress {
  const tty = stream.isTTY === true;
  let open = false;
  const endLine = () => {
    if (open) stream.write("\n");
    open = false;
  };
  return {
    window(w, elapsedS) {
      if (quiet) return;
      const line = progressLine(w, elapsedS);
      if (tty) {
        const width = stream.columns ?? 200;
        stream.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
        open = true;
      } else {
        stream.write(`${line}\n`);
      }
    },
    note(line) {
      if (quiet) return;
      endLine();
      stream.write(`${line}\n`);
    },
    done() {
      endLine();
    },
  };
}
