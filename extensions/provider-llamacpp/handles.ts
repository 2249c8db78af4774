/**
 * What the llama.cpp provider serves. Its own file so that the descriptor, the provisioner
 * and `config check` share one list without loading the provider.
 */
export const LLAMACPP_HANDLES = [
  { engine: 'llamacpp', mode: 'source' },
  { engine: 'llamacpp', mode: 'binary' },
  { engine: 'llamacpp', mode: 'package' },
] as const satisfies ReadonlyArray<{ engine: string, mode: 'source' | 'binary' | 'package' }>
