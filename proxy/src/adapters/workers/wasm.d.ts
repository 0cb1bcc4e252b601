/** wrangler's CompiledWasm module rule: a `.wasm` import is its compiled module. */
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
