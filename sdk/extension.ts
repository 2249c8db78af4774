import type { TSchema } from 'typebox'

/**
 * The contract between llama-orch and its extensions (package export `llama-orch/sdk`).
 *
 * An extension package exports:
 *   - `default`: a Fastify plugin wrapped with fastify-plugin, `name` = the package name,
 *     `fastify: '5.x'`, `dependencies: ['orc.adapters']` (or `['orc.provisioners']`);
 *   - `extension`: an ExtensionDescriptor whose `optionsSchema` is built with typebox 1.x.
 * The host validates the manifest entry's options against `optionsSchema` (filling its
 * defaults) before registering the plugin, so the plugin can trust what it receives.
 */
export const EXTENSION_API = 1

/** The two kinds of extension a manifest lists: under `adapters` and under `providers`. */
export type ExtensionKind = 'adapter' | 'provisioner'

export interface ExtensionDescriptor {
  kind: ExtensionKind
  /** Must equal EXTENSION_API of the host. */
  apiVersion: number
  /** typebox schema of the options the manifest entry may carry. */
  optionsSchema: TSchema
  /** Adapters: the engine names they register (lets `config check` verify pools without booting). */
  engines?: string[]
  description?: string
}
