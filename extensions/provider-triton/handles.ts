/**
 * What the Triton provider serves. Its own file so that the descriptor, the provisioner and
 * `config check` share one list without loading the provider.
 */
export const TRITON_HANDLES = [{ engine: 'triton', mode: 'container' }] as const satisfies ReadonlyArray<{ engine: string, mode: 'container' }>
