// This project's type libraries have no WebAssembly declarations; these are the parts used.

export interface WasmModule {
  readonly kind: 'compiled module';
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: unknown };
}

export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
