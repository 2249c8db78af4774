/** Sizes as the pool manager and the engine provisioners reckon them (spec pools §1.5). */

export const mib = (bytes: number): string => `${Math.round(bytes / 1024 / 1024)} MiB`

/** Memory an engine needs for a model file of `size` bytes: the weights plus a margin for the KV cache and its own buffers. */
export function engineBytes (size: number): number {
  return Math.ceil(size * 1.1) + 64 * 1024 * 1024
}
