import type { TSchema } from 'typebox'
import type { PoolConfig, ProvisioningMode } from './pool-config.js'

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
  /**
   * Providers: the (engine, mode) pairs their provisioner handles, the same as its
   * `Provisioner.handles` (engine `*` matches any engine). Lets `config check` refuse a pool
   * no enabled provider serves without booting; when one enabled provider leaves it out,
   * `config check` skips that check (boot still checks the registered provisioners).
   */
  handles?: Array<{ engine: string, mode: ProvisioningMode }>
  /**
   * Providers: what the provider cannot honour in a pool it serves by `handles` (a flag it
   * does not pass on, a value out of its range), found without booting. `config check` and
   * boot refuse the manifest with these, so a pool never boots into a setting that is
   * silently ignored; `path` is relative to the pool (e.g. `/provisioning/flags/2`) and
   * `message` says what to do instead. Needs `handles`: it is called for those pools only.
   */
  checkPool?: (pool: PoolConfig) => Array<{ path: string, message: string }>
  description?: string
}
