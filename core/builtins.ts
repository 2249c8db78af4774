import type { ExtensionKind } from './sdk.js'

export type ModuleLoader = () => Promise<unknown>
export type Builtins = Record<ExtensionKind, Record<string, ModuleLoader>>

/**
 * First-party extensions, loaded by name from a static map (no filesystem scanning).
 * They follow the same contract as packages from npm: `default` plugin + `extension`.
 * Adapters and provisioners land here as they are built.
 */
export const BUILTINS: Builtins = {
  adapter: {
    llamacpp: () => import('../plugins/adapter-llamacpp/index.js'),
    vllm: () => import('../plugins/adapter-vllm/index.js'),
    tgi: () => import('../plugins/adapter-tgi/index.js'),
    triton: () => import('../plugins/adapter-triton/index.js'),
    openai: () => import('../plugins/adapter-openai/index.js'),
  },
  provisioner: {
    embedded: () => import('../providers/embedded/index.js'),
  },
}
