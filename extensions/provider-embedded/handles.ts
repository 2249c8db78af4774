/**
 * What the embedded provider serves. Its own file so that the descriptor, the provisioner and
 * `config check` share one list without loading node-llama-cpp.
 */
export const EMBEDDED_HANDLES = [{ engine: 'llamacpp', mode: 'embedded' }] as const satisfies ReadonlyArray<{ engine: string, mode: 'embedded' }>
