// Cold build vs ccache-warm rebuild of llama-server by the llamacpp provider (issue 12's
// benchmark), in one run: two prepares of the same `mode: source` pool (the llama.cpp release
// node-llama-cpp ships, -DGGML_NATIVE=OFF) into two fresh engine caches that share one fresh
// ccache folder, so the first fills ccache and the second reads it. Each includes the clone,
// configure and build. Prints both wall times and the ratio. Target: warm ≥ 10× faster.
// Needs git, cmake, ninja (or make), a C++ compiler and ccache.
// Usage: npm run bench:llama-build   (about 5–8 min on 2 cores)
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLlamacppProvisioner } from '../dist/extensions/provider-llamacpp/provisioner.js'
import { parseManifest } from '../dist/core/manifest-load.js'

const work = mkdtempSync(join(tmpdir(), 'orc-llama-build-'))
const env = { ...process.env, CCACHE_DIR: join(work, 'ccache') }
const policy = { allow_outbound_network: false, outbound_allowlist: [], allow_package_installs: false, allow_binary_downloads: false }
const pool = parseManifest({
  pools: [{
    id: 'bench',
    engine: 'llamacpp',
    model: 'tiny',
    devices: [],
    provisioning: { mode: 'source', compute_policy: 'cpu-only', source: { build: { cmake_flags: ['-DGGML_NATIVE=OFF'] } } },
  }],
}).pools[0]

async function prepare (name) {
  const prov = createLlamacppProvisioner({ policy, cacheRoot: join(work, name), env })
  const t0 = performance.now()
  const p = await prov.prepare(pool, { model: { id: 'tiny', local_path: '/dev/null' } })
  return { s: (performance.now() - t0) / 1000, commit: p.build_ref }
}

try {
  const cold = await prepare('cold')
  const warm = await prepare('warm')
  console.log(`cold build (empty ccache, fresh engine cache): ${cold.s.toFixed(1)} s`)
  console.log(`warm rebuild (fresh engine cache, same ccache): ${warm.s.toFixed(1)} s`)
  console.log(`ratio cold/warm ${(cold.s / warm.s).toFixed(1)}× (target ≥ 10×)`)
  console.log(`llama.cpp ${cold.commit.slice(0, 12)}, node ${process.version}, ${cpus().length} cores`)
} finally {
  rmSync(work, { recursive: true, force: true })
}
