import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "gpu-node/**/*.test.ts",
      "proxy/**/*.test.ts",
      "billing/**/*.test.ts",
      "migrations/**/*.test.ts",
      "test/**/*.test.ts",
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // onnxruntime sessions use both cores; running test files in parallel only adds contention.
    fileParallelism: false,
  },
});
