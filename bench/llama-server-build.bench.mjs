// Cold build vs ccache-warm rebuild of the llama-server target (issue 12's benchmark), in one
// run: the llama.cpp release node-llama-cpp ships (cloned by scripts/build-llama-server.sh into
// the engine cache), built twice into fresh build folders with one fresh ccache folder, so the
// first build fills the cache and the second reads it. Prints both wall times and the ratio.
// Target: the warm rebuild ≥ 10× faster. Needs cmake, ninja, a C++ compiler and ccache.
// Usage: npm run bench:llama-build   (about 5–8 min on 2 cores)
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

const bin = execFileSync('bash', ['scripts/build-llama-server.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
const src = join(dirname(dirname(dirname(bin))), 'src')
const work = mkdtempSync(join(tmpdir(), 'orc-llama-build-'))
// BASEDIR makes the two build folders' absolute paths relative, so the second build hits
const env = { ...process.env, CCACHE_DIR: join(work, 'ccache'), CCACHE_BASEDIR: work, CCACHE_NOHASHDIR: '1' }
const flags = ['-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release', '-DGGML_NATIVE=OFF', '-DLLAMA_CURL=OFF', '-DLLAMA_BUILD_TESTS=OFF', '-DLLAMA_BUILD_EXAMPLES=OFF',
  '-DCMAKE_C_COMPILER_LAUNCHER=ccache', '-DCMAKE_CXX_COMPILER_LAUNCHER=ccache']

function build (name) {
  const dir = join(work, name)
  const t0 = performance.now()
  execFileSync('cmake', ['-S', src, '-B', dir, ...flags], { env, stdio: 'ignore' })
  execFileSync('cmake', ['--build', dir, '--target', 'llama-server'], { env, stdio: 'ignore' })
  return (performance.now() - t0) / 1000
}

try {
  const cold = build('cold')
  const warm = build('warm')
  const stats = execFileSync('ccache', ['--show-stats'], { env, encoding: 'utf8' }).split('\n').filter((l) => /hit|miss/i.test(l)).map((l) => l.trim()).join('; ')
  console.log(`cold build (empty ccache): ${cold.toFixed(1)} s`)
  console.log(`warm rebuild (fresh build folder, same ccache): ${warm.toFixed(1)} s`)
  console.log(`ratio cold/warm ${(cold / warm).toFixed(1)}× (target ≥ 10×); ccache: ${stats}`)
  console.log(`llama.cpp ${src.split('/').at(-2)}, node ${process.version}, ${(await import('node:os')).cpus().length} cores`)
} finally {
  rmSync(work, { recursive: true, force: true })
}
