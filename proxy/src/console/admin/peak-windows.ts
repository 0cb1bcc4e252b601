import type { PeakWindow } from "../../store/ports.ts";

/**
 * Peak windows as an admin types them: `1-5 08:00-20:00; 0,6 10:00-12:00` (weekdays 0 = Sunday … 6 = Saturday,
 * local time in the plan's zone). Returns null on anything it cannot read; the admin API validates the rest.
 */
export function parsePeakWindows(text: string): PeakWindow[] | null {
  const out: PeakWindow[] = [];
  for (const part of text
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([0-6](?:\s*[-,]\s*[0-6])*)\s+(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})$/.exec(part);
    if (!m) return null;
    const days = new Set<number>();
    for (const piece of (m[1] ?? "").split(",")) {
      const [a, b] = piece.split("-").map((x) => Number(x.trim()));
      if (a === undefined || Number.isNaN(a)) return null;
      for (let d = a; d <= (b ?? a); d++) days.add(d);
    }
    out.push({ days: [...days].sort(), start: m[2] ?? "", end: m[3] ?? "" });
  }
  return out;
}

export function formatPeakWindows(windows: PeakWindow[]): string {
  return windows.map((w) => `${w.days.join(",")} ${w.start}-${w.end}`).join("; ");
}
