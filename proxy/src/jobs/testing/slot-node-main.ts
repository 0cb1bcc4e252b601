/** The slot node as its own process (benchmarks): SLOT_* env settings; prints "slot node listening on URL". */
import { startSlotNode } from "./slot-node.ts";

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`);
  return v;
};
const node = await startSlotNode({
  slots: num("SLOT_SLOTS", 8),
  reservedInteractive: num("SLOT_RESERVED_INTERACTIVE", 2),
  maxQueue: num("SLOT_MAX_QUEUE", 64),
  serviceMs: num("SLOT_SERVICE_MS", 100),
  contention: num("SLOT_CONTENTION", 0),
  audioMs: num("SLOT_AUDIO_MS", 1000),
});
console.log(`slot node listening on ${node.url}`);
