/** What the engine reports as it works; the metrics adapter implements it, tests may record it. */
export type StageName = "conditioning" | "prefill" | "decode" | "latent" | "projector" | "cfm_step" | "vocoder";

export interface CompletedRequest {
  priority: "interactive" | "batch";
  semanticTokens: number;
  audioSeconds: number;
  queueSeconds: number;
  /** arrival to completion */
  totalSeconds: number;
}

export interface EngineObserver {
  stageRun(stage: StageName, seconds: number, batchSize: number): void;
  rejected(reason: string): void;
  completed(request: CompletedRequest): void;
  failed(code: string): void;
}

export const noopObserver: EngineObserver = {
  stageRun: () => {},
  rejected: () => {},
  completed: () => {},
  failed: () => {},
};
