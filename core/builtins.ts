import type { ExtensionKind } from '../sdk/index.js'

export type ModuleLoader = () => Promise<unknown>
export type Builtins = Record<ExtensionKind, Record<string, ModuleLoader>>

/**
 * First-party extensions, loaded by name from a static map (no filesystem scanning).
 * They follow the same contract as packages from npm: `default` plugin + `extension`.
 * Adapters and provisioners land here as they are built.
 */
export const BUILTINS: Builtins = {
  adapter: {
    llamacpp: () => import('../extensions/adapter-llamacpp/index.js'),
    vllm: () => import('../extensions/adapter-vllm/index.js'),
    tgi: () => import('../extensions/adapter-tgi/index.js'),
    triton: () => import('../extensions/adapter-triton/index.js'),
    openai: () => import('../extensions/adapter-openai/index.js'),
  },
  provisioner: {
    embedded: () => import('../extensions/provider-embedded/index.js'),
    llamacpp: () => import('../extensions/provider-llamacpp/index.js'),
    vllm: () => import('../extensions/provider-vllm/index.js'),
    tgi: () => import('../extensions/provider-tgi/index.js'),
    triton: () => import('../extensions/provider-triton/index.js'),
  },
}
