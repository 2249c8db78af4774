/**
 * The cmake flags of a llama.cpp source build (spec pools §2.4 steps 4–7): the legacy
 * `LLAMA_CUBLAS` spelling mapped to `GGML_CUDA`, the flags every build needs, ccache as the
 * compiler launcher (ORCH-3431), and the CPU-only form a failed CUDA configure falls back to.
 */

/** What every llama-server build gets, before the pool's own flags (which may override them). */
export const BASE_FLAGS = [
  '-DCMAKE_BUILD_TYPE=Release', '-DLLAMA_BUILD_SERVER=ON', '-DLLAMA_CURL=OFF', '-DLLAMA_BUILD_TESTS=OFF', '-DLLAMA_BUILD_EXAMPLES=OFF',
] as const

/**
 * Step 4: drop `LLAMA_CUBLAS` flags; one that was on becomes `-DGGML_CUDA=ON` unless GGML_CUDA
 * is set. (A stale CMakeCache cannot keep the legacy flag alive: every configure starts from
 * an empty cache, build.ts.)
 */
export function mapFlags (flags: readonly string[]): string[] {
  const legacy = flags.filter((f) => f.includes('LLAMA_CUBLAS'))
  const kept = flags.filter((f) => !f.includes('LLAMA_CUBLAS'))
  const cublasOn = legacy.some((f) => /=\s*(ON|1|TRUE|YES)$/i.test(f))
  if (cublasOn && !kept.some((f) => f.includes('GGML_CUDA'))) kept.push('-DGGML_CUDA=ON')
  return kept
}

/** True when the flags ask for a CUDA build (the last GGML_CUDA setting wins, as in cmake). */
export function wantsCuda (flags: readonly string[]): boolean {
  const last = flags.filter((f) => /^-DGGML_CUDA(:BOOL)?=/i.test(f)).at(-1)
  return last !== undefined && /=\s*(ON|1|TRUE|YES)$/i.test(last)
}

/** The CPU-only retry (step 7b): every CUDA flag removed, GGML_CUDA off. */
export function cpuFlags (flags: readonly string[]): string[] {
  return [...flags.filter((f) => !/GGML_CUDA|LLAMA_CUBLAS|CMAKE_CUDA/i.test(f)), '-DGGML_CUDA=OFF']
}

/** The compiler launcher flags when ccache is present (ORCH-3431). */
export function ccacheFlags (cuda: boolean): string[] {
  return ['-DCMAKE_C_COMPILER_LAUNCHER=ccache', '-DCMAKE_CXX_COMPILER_LAUNCHER=ccache', ...(cuda ? ['-DCMAKE_CUDA_COMPILER_LAUNCHER=ccache'] : [])]
}
