// Model staging and catalog benchmarks, all on loopback and a temp dir, in one run:
//  1. download throughput of the staging path (undici + sha256 while writing + resume
//     bookkeeping + fsync; and the whole ensurePresent: verify, rename, register) against a
//     plain undici stream-to-file baseline;
//  2. catalog write latency (lock + read-modify-write + temp/fsync/rename/fsync-dir) against
//     a plain writeFile of the same index, and the cost of the admission-path lifecycle() read.
// Usage: npm run bench:catalog -- [MiB=128] [entries=200]
import { createServer } from 'node:http'
import { createWriteStream } from 'node:fs'
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { request } from 'undici'
import { download } from '../dist/plugins/models/download.js'
import { createModelProvisioner } from '../dist/plugins/models/provisioner.js'
import { CatalogStore } from '../dist/lib/catalog-store/store.js'

const MIB = Number(process.argv[2] ?? 128)
const ENTRIES = Number(process.argv[3] ?? 200)
const body = Buffer.alloc(MIB * 1024 * 1024)
for (let i = 0; i < body.length; i += 4096) body[i] = i & 0xff
const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`

const server = createServer((_req, res) => { res.writeHead(200, { 'content-length': body.length }); res.end(body) })
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${server.address().port}/model.bin`
const dir = await mkdtemp(join(tmpdir(), 'orch-bench-'))
const policy = { allow_outbound_network: true, outbound_allowlist: [] }

async function best (label, runs, fn) {
  const times = []
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint()
    await fn(i)
    times.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  times.sort((a, b) => a - b)
  const ms = times[Math.floor(times.length / 2)]
  console.log(`${label.padEnd(52)} ${(MIB / (ms / 1000)).toFixed(0).padStart(6)} MiB/s  (median of ${runs}, ${ms.toFixed(0)} ms)`)
  return ms
}

console.log(`download of ${MIB} MiB over loopback`)
const base = await best('undici stream to file (baseline)', 5, async (i) => {
  const res = await request(url)
  await pipeline(res.body, createWriteStream(join(dir, `plain-${i}`)))
})
const hashed = await best('undici stream to file + sha256', 5, async (i) => {
  const res = await request(url)
  const h = createHash('sha256')
  res.body.on('data', (c) => h.update(c))
  await pipeline(res.body, createWriteStream(join(dir, `hashed-${i}`)))
  h.digest('hex')
})
const synced = await best('undici stream to file + sha256 + fsync', 5, async (i) => {
  const res = await request(url)
  const h = createHash('sha256')
  res.body.on('data', (c) => h.update(c))
  const file = join(dir, `synced-${i}`)
  await pipeline(res.body, createWriteStream(file))
  const fd = await open(file, 'r+')
  await fd.sync()
  await fd.close()
  h.digest('hex')
})
const staged = await best('staging download() (hash, resume meta, fsync)', 5, async (i) => {
  await download({ url, part: join(dir, `part-${i}`), policy, what: 'bench' })
})
const ensured = await best('ensurePresent (download, verify, rename, register)', 5, async (i) => {
  const store = new CatalogStore(join(dir, `cat-${i}`)).open()
  const p = createModelProvisioner({ store, policy, fetch: { concurrency: 4, hf_cli: false, hf_endpoint: null, idle_timeout_ms: 30000 } })
  await p.ensurePresent(url, digest)
})
console.log(
  `ratio staging/baseline: ${(base / staged).toFixed(2)}  ensurePresent/baseline: ${(base / ensured).toFixed(2)}  ` +
  `staging/(baseline+sha256+fsync): ${(synced / staged).toFixed(2)}  (baseline+sha256/baseline: ${(base / hashed).toFixed(2)})`
)

console.log(`\ncatalog writes: ${ENTRIES} puts into one index`)
const store = new CatalogStore(join(dir, 'writes')).open()
const lat = []
for (let i = 0; i < ENTRIES; i++) {
  const id = `hf:org/repo-${String(i).padStart(5, '0')}/model.gguf`
  const t0 = process.hrtime.bigint()
  await store.put({ id, local_path: null, lifecycle: 'Active', digest, last_verified_ms: 1, created_ms: 1, updated_ms: 1 })
  lat.push(Number(process.hrtime.bigint() - t0) / 1e6)
}
const plain = []
const doc = { schema_version: 1, entries: Object.fromEntries(store.list().map((e) => [e.id, e])) }
for (let i = 0; i < 50; i++) {
  const t0 = process.hrtime.bigint()
  await writeFile(join(dir, 'plain-index.json'), JSON.stringify(doc, null, 2))
  plain.push(Number(process.hrtime.bigint() - t0) / 1e6)
}
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]
console.log(
  `put (lock, re-read, temp+fsync, rename, fsync dir)   p50 ${q(lat, 0.5).toFixed(2)} ms  p99 ${q(lat, 0.99).toFixed(2)} ms  ` +
  `(last ${lat.at(-1).toFixed(2)} ms at ${ENTRIES} entries)`
)
console.log(`plain writeFile of the same ${ENTRIES}-entry index (baseline)  p50 ${q(plain, 0.5).toFixed(2)} ms`)
console.log(`ratio put/plain write at p50: ${(q(lat, 0.5) / q(plain, 0.5)).toFixed(1)}x`)
const N = 200_000
const t0 = process.hrtime.bigint()
for (let i = 0; i < N; i++) store.lifecycle('hf:org/repo-00042/model.gguf')
console.log(`lifecycle() on the admission path: ${(Number(process.hrtime.bigint() - t0) / N / 1000).toFixed(2)} µs/call (a stat, no parse)`)

console.log(`\nnode ${process.version}, ${MIB} MiB, ${ENTRIES} entries, temp dir ${tmpdir()}`)
server.close()
await rm(dir, { recursive: true, force: true })
