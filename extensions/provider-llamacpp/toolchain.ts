/**
 * The toolchain of a source build (spec pools §2.4 steps 5 and 7a): where CUDA is when nvcc
 * is not on PATH, which host compiler nvcc accepts, and what the tools say they are (part of
 * the build key, so a changed compiler rebuilds). What was discovered is cached in
 * `<cache_dir>/toolchain-hints.json`, keyed by repo, ref and flags, so a repeated build
 * skips the probing; an entry whose paths vanished is probed again.
 */
import { access, constants, readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { writeFileAtomic, stableStringify } from '../../lib/atomic.js'
import { runTool, which } from '../../lib/provision/command.js'

export interface HostCompiler { cc: string, cxx: string }

export interface Hint {
  cuda_root: string | null
  host_compiler: HostCompiler | null
  /** `cuda-failed`: a CUDA build of these inputs failed; a cpu-fallback pool goes straight to CPU. */
  verdict: 'ok' | 'cuda-failed'
  recorded_ms: number
}

const exists = async (p: string): Promise<boolean> => await access(p, constants.X_OK).then(() => true, () => false)

/** Step 5: `nvcc` on PATH (its grandparent), /opt/cuda or /usr/local/cuda, then the first `cuda*` dir under /opt or /usr/local. */
export async function findCudaRoot (env: NodeJS.ProcessEnv, roots: readonly string[] = ['/opt', '/usr/local']): Promise<string | null> {
  const nvcc = await which('nvcc', env)
  if (nvcc) return dirname(dirname(nvcc))
  for (const r of roots) if (await exists(join(r, 'cuda', 'bin', 'nvcc'))) return join(r, 'cuda')
  for (const r of roots) {
    const names = (await readdir(r).catch(() => [] as string[])).filter((n) => n.startsWith('cuda')).sort()
    for (const n of names) if (await exists(join(r, n, 'bin', 'nvcc'))) return join(r, n)
  }
  return null
}

/** What a CUDA root adds to the environment and the configure line. */
export function cudaHints (root: string, env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv, flags: string[] } {
  return {
    env: {
      ...env,
      CUDAToolkit_ROOT: root,
      CUDA_HOME: root,
      CUDA_PATH: root,
      CUDA_TOOLKIT_ROOT_DIR: root,
      PATH: `${join(root, 'bin')}:${env.PATH ?? ''}`,
      CUDACXX: join(root, 'bin', 'nvcc'),
    },
    flags: [`-DCUDAToolkit_ROOT=${root}`, `-DCUDA_TOOLKIT_ROOT_DIR=${root}`, `-DCMAKE_CUDA_COMPILER=${join(root, 'bin', 'nvcc')}`],
  }
}

const HOST_COMPILERS: ReadonlyArray<[string, string]> = [
  ['gcc-13', 'g++-13'], ['gcc13', 'g++13'], ['clang', 'clang++'], ['clang-18', 'clang++-18'], ['clang-17', 'clang++-17'], ['clang-16', 'clang++-16'],
]

/** Step 7a: a host compiler nvcc accepts (gcc 13, else a clang), paired C and C++. */
export async function findHostCompiler (env: NodeJS.ProcessEnv): Promise<HostCompiler | null> {
  for (const [cc, cxx] of HOST_COMPILERS) {
    const c = await which(cc, env)
    const x = c ? await which(cxx, env) : null
    if (c && x) return { cc: c, cxx: x }
  }
  return null
}

/** The first line each tool prints for `--version` (null when it is absent): the toolchain part of the build key. */
export async function toolIdentity (tools: readonly string[], env: NodeJS.ProcessEnv): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {}
  for (const t of tools) {
    const path = await which(t, env)
    out[t] = path === null ? null : `${path}: ${(await runTool(path, ['--version'], { env }).catch(() => ({ tail: '' }))).tail.split('\n')[0] ?? ''}`
  }
  return out
}

export class HintsFile {
  private readonly file: string
  constructor (file: string) { this.file = file }

  private async all (): Promise<Record<string, Hint>> {
    try { return JSON.parse(await readFile(this.file, 'utf8')) as Record<string, Hint> } catch { return {} }
  }

  /** The hint for `key`, unless a path it records has vanished since. */
  async get (key: string): Promise<Hint | null> {
    const h = (await this.all())[key]
    if (!h) return null
    const paths = [h.cuda_root && join(h.cuda_root, 'bin', 'nvcc'), h.host_compiler?.cc, h.host_compiler?.cxx].filter((p): p is string => !!p)
    for (const p of paths) if (!await exists(p)) return null
    return h
  }

  async put (key: string, hint: Hint): Promise<void> {
    const all = await this.all()
    all[key] = hint
    await writeFileAtomic(this.file, stableStringify(all))
  }
}
