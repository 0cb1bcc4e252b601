/** LAME's WASM (wasm-media-encoders' `mp3.wasm`), compiled once per Node process. */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
let compiled: Promise<WebAssembly.Module> | null = null;

export function mp3WasmModule(): Promise<WebAssembly.Module> {
  compiled ??= readFile(require.resolve("wasm-media-encoders/wasm/mp3")).then((bytes) => WebAssembly.compile(bytes));
  return compiled;
}
