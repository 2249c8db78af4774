import t from 'tap'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { FETCH, hub, provisioner } from './helpers.js'
import { semaphore } from '../provisioner.js'

const bytes = (n: number, seed = 1): Buffer => { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff; return b }
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`

t.test('hf: pull from the fake hub with the right digest → Active, file present, sha256 matches (ORCH-3436, decision 13)', async (t) => {
  const h = await hub(t)
  const data = bytes(300_000)
  const digest = h.put('org/repo', 'sub/model.gguf', data, { lfs: true })
  const { p, store, root, narrated, counted } = provisioner(t, { env: { HF_ENDPOINT: h.url, HF_TOKEN: 'hf_secrettoken1234567' } })
  const seen: number[] = []
  const r = await p.ensurePresent('hf:org/repo/sub/model.gguf', digest, { engine: 'llamacpp', onProgress: (x) => seen.push(x.bytes) })
  t.same(r, { id: 'hf:org/repo/sub/model.gguf', local_path: join(root, 'gguf/org/repo/sub/model.gguf'), digest, lifecycle: 'Active' })
  t.same(readFileSync(r.local_path), data)
  const e = store.get(r.id)!
  t.match(e, { lifecycle: 'Active', digest, owned: true, trust_state: 'verified', verification: { result: 'pass' }, size_bytes: 300_000 })
  t.type(e.last_verified_ms, 'number')
  t.same(counted, ['pass/digest_match/llamacpp'])
  t.equal(seen.at(-1), 300_000)
  t.match(narrated.join('\n'), /stages hf:org\/repo\/sub\/model.gguf from 127\.0\.0\.1[\s\S]*registers hf:org\/repo\/sub\/model\.gguf Active/)
  t.same(
    h.requests.map((q) => q.url),
    ['/org/repo/resolve/main/sub/model.gguf', `/cdn/${encodeURIComponent('org/repo@main/sub/model.gguf')}`],
    'followed the redirect to the CDN'
  )
  t.equal(h.requests[0]!.auth, 'Bearer hf_secrettoken1234567', 'HF_TOKEN goes to the hub')
  t.same(readdirSync(join(root, '.staging')), [], 'staging is cleaned up')
  const again = await p.ensurePresent('hf:org/repo/sub/model.gguf', digest)
  t.same(again, r, 'already Active with a matching digest: no fetch (scenario 44)')
  t.equal(h.requests.length, 2)
})

t.test('a wrong digest fails naming both digests; no entry and no file is left (acceptance)', async (t) => {
  const h = await hub(t)
  const actual = h.put('org/repo', 'm.gguf', bytes(70_000), { lfs: true })
  const wrong = `sha256:${'0'.repeat(64)}`
  const { p, store, root, counted } = provisioner(t, { env: { HF_ENDPOINT: h.url } })
  await t.rejects(p.ensurePresent('hf:org/repo/m.gguf', wrong), {
    code: 'ORC_ERR_MODEL_DIGEST_MISMATCH',
    message: `llama-orch models: digest mismatch for hf:org/repo/m.gguf: expected ${wrong}, got ${actual}; nothing was kept or registered`,
  })
  t.equal(store.get('hf:org/repo/m.gguf'), undefined)
  t.notOk(existsSync(join(root, 'gguf')), 'no file in the cache')
  t.same(readdirSync(join(root, '.staging')), [], 'no partial download either')
  t.same(counted, ['fail/digest_mismatch/none'])
  t.notOk(existsSync(join(root, 'index.json')), 'the catalog was never written')
  await t.rejects(p.ensurePresent('hf:org/repo/m.gguf', 'md5-ish'), { code: 'ORC_ERR_MODEL_INVALID_REF' })
})

t.test('outbound network off → PolicyDenied at once, naming the setting; nothing contacted (scenario 40, D6)', async (t) => {
  const h = await hub(t)
  h.put('org/repo', 'm.gguf', 'x')
  const { p } = provisioner(t, { env: { HF_ENDPOINT: h.url }, policy: { allow_outbound_network: false, outbound_allowlist: [] } })
  const t0 = Date.now()
  await t.rejects(p.ensurePresent('hf:org/repo/m.gguf'), { code: 'ORC_ERR_MODEL_POLICY_DENIED', message: /policy\.allow_outbound_network is false; set policy\.allow_outbound_network: true/ })
  t.ok(Date.now() - t0 < 500)
  const { p: listed } = provisioner(t, { env: { HF_ENDPOINT: h.url }, policy: { allow_outbound_network: true, outbound_allowlist: ['huggingface.co'] } })
  await t.rejects(listed.ensurePresent('hf:org/repo/m.gguf'), { message: /127\.0\.0\.1, which is not in policy\.outbound_allowlist \(huggingface\.co\)/ })
  t.same(h.requests, [])
  const { p: ok } = provisioner(t, { env: { HF_ENDPOINT: h.url }, policy: { allow_outbound_network: true, outbound_allowlist: ['127.0.0.1'] } })
  t.equal((await ok.ensurePresent('hf:org/repo/m.gguf')).lifecycle, 'Active')
})

t.test('an interrupted download resumes with Range from where it stopped (ORCH-3436)', async (t) => {
  const h = await hub(t, { cutAfter: 200_000 })
  const data = bytes(500_000, 7)
  const digest = h.put('plain', 'big.bin', data)
  const { p, root, store } = provisioner(t)
  const url = `${h.url}/plain/big.bin`
  await t.rejects(p.ensurePresent(url, digest), { code: 'ORC_ERR_MODEL_FETCH_FAILED', message: /next pull resumes/ })
  t.equal(store.get(url), undefined, 'nothing registered while incomplete')
  const [stageDir] = readdirSync(join(root, '.staging')).filter((f) => !f.endsWith('.lock'))
  const part = join(root, '.staging', stageDir!, 'big.bin.part')
  const have = statSync(part).size
  t.ok(have > 0 && have < data.length, `a partial file of ${have} bytes is kept`)
  h.options.cutAfter = undefined
  const r = await p.ensurePresent(url, digest)
  t.same(readFileSync(r.local_path), data)
  const last = h.requests.at(-1)!
  t.equal(last.range, `bytes=${have}-`, 'asked only for the rest')
  t.match(last.ifRange, /^"[0-9a-f]{64}"$/, 'guarded by If-Range')
  t.match(r.local_path, new RegExp(`${root}/url/[0-9a-f]{64}/big\\.bin$`))
})

t.test('a server that ignores Range restarts the file; a corrupt body is discarded', async (t) => {
  const h = await hub(t, { cutAfter: 100_000 })
  const data = bytes(250_000, 3)
  const digest = h.put('org/repo', 'f.gguf', data, { lfs: true })
  const { p } = provisioner(t, { env: { HF_ENDPOINT: h.url } })
  await t.rejects(p.ensurePresent('hf:org/repo/f.gguf', digest))
  h.options.cutAfter = undefined
  h.options.ignoreRange = true
  const r = await p.ensurePresent('hf:org/repo/f.gguf', digest)
  t.same(readFileSync(r.local_path), data, 'restarted from zero, not appended at a wrong offset')
  const h2 = await hub(t, { corrupt: true })
  h2.put('org/repo', 'c.gguf', bytes(1000), { lfs: true })
  const { p: p2, store } = provisioner(t, { env: { HF_ENDPOINT: h2.url } })
  await t.rejects(p2.ensurePresent('hf:org/repo/c.gguf'), { code: 'ORC_ERR_MODEL_FETCH_FAILED', message: /vouched for sha256:[0-9a-f]{64} but sent/ })
  t.equal(store.get('hf:org/repo/c.gguf'), undefined)
})

t.test('a whole hf repo is staged in parallel with bounded concurrency, digest over its manifest (ORCH-3435)', async (t) => {
  const h = await hub(t, { rate: 2_000_000 })
  const names = ['config.json', 'tokenizer.json', 'model-00001.safetensors', 'model-00002.safetensors', 'nested/extra.bin']
  for (const [i, n] of names.entries()) h.put('org/big', n, bytes(200_000 + i * 1000, i), { lfs: n.endsWith('.safetensors') })
  const { p, root, store } = provisioner(t, { env: { HF_ENDPOINT: h.url }, fetch: { ...FETCH, concurrency: 2 } })
  const r = await p.ensurePresent('hf:org/big')
  const max = h.maxConcurrent()
  t.equal(r.local_path, join(root, 'transformers/org/big@main'))
  t.same(readdirSync(r.local_path).sort(), ['config.json', 'model-00001.safetensors', 'model-00002.safetensors', 'nested', 'tokenizer.json'])
  t.equal(max, 2, 'files download in parallel, at most 2 at once')
  const { digestPath } = await import('../../../lib/digest.js')
  t.equal(r.digest, (await digestPath(r.local_path)).digest, 'the directory digest is reproducible from disk')
  t.match(store.get('hf:org/big'), {
    owned: true,
    verification: { result: 'warn', reason: 'no_expected_digest' },
    trust_state: 'warned',
    last_verified_ms: null,
  })
  await t.rejects(p.ensurePresent('hf:org/missing'), { code: 'ORC_ERR_MODEL_NOT_FOUND' })
})

t.test('two concurrent ensures of one ref share one fetch (scenario 43)', async (t) => {
  const h = await hub(t, { rate: 5_000_000 })
  const digest = h.put('org/repo', 'm.gguf', bytes(100_000))
  const { p } = provisioner(t, { env: { HF_ENDPOINT: h.url } })
  const [a, b] = await Promise.all([p.ensurePresent('hf:org/repo/m.gguf', digest), p.ensurePresent('hf:org/repo/m.gguf')])
  t.same(a, b)
  t.equal(h.requests.filter((q) => q.url.includes('resolve')).length, 1)
  await t.rejects(
    p.ensurePresent('hf:org/repo/m.gguf', `sha256:${'1'.repeat(64)}`).then(() => null),
    { code: 'ORC_ERR_MODEL_DIGEST_MISMATCH' },
    'a joiner with another expectation is not served the wrong bytes'
  )
})

t.test('file: refs are used in place; a missing file is NotFound with no catalog write (scenarios 38, 39, D8)', async (t) => {
  const dir = t.testdir({ 'm.gguf': 'tiny', sub: { 'rel.gguf': 'rel' } })
  const { p, store, counted } = provisioner(t, {}, dir)
  const r = await p.ensurePresent(`file:${join(dir, 'm.gguf')}`, sha(Buffer.from('tiny')))
  t.same(r, { id: `file:${join(dir, 'm.gguf')}`, local_path: join(dir, 'm.gguf'), digest: sha(Buffer.from('tiny')), lifecycle: 'Active' })
  t.match(store.get(r.id), { owned: false, lifecycle: 'Active' })
  const rel = await p.ensurePresent('sub/rel.gguf')
  t.equal(rel.id, `file:${join(dir, 'sub/rel.gguf')}`, 'a relative ref resolves against the catalog root')
  t.same(counted, ['pass/digest_match/none', 'warn/no_expected_digest/none'])
  t.same(await p.ensurePresent(`file:${join(dir, 'm.gguf')}`), r, 'unchanged file: not hashed again')
  t.equal(counted.length, 2)
  await t.rejects(p.ensurePresent(`file:${join(dir, 'nope.gguf')}`), { code: 'ORC_ERR_MODEL_NOT_FOUND', message: /does not exist/ })
  t.equal(store.get(`file:${join(dir, 'nope.gguf')}`), undefined)
  await t.rejects(p.ensurePresent(`file:${join(dir, 'm.gguf')}`, `sha256:${'2'.repeat(64)}`), { code: 'ORC_ERR_MODEL_DIGEST_MISMATCH' })
  t.equal(p.idOf('sub/rel.gguf'), rel.id)
  t.equal(p.parse('hf:a/b').scheme, 'hf')
})

t.test('a file renamed into place but never registered (crash) is recovered without a download', async (t) => {
  const h = await hub(t)
  const data = bytes(5000)
  const digest = h.put('org/repo', 'm.gguf', data)
  const { p, root } = provisioner(t, { env: { HF_ENDPOINT: h.url } })
  mkdirSync(join(root, 'gguf/org/repo'), { recursive: true })
  writeFileSync(join(root, 'gguf/org/repo/m.gguf'), data)
  const r = await p.ensurePresent('hf:org/repo/m.gguf', digest)
  t.equal(r.lifecycle, 'Active')
  t.same(h.requests, [], 'no request')
  writeFileSync(join(root, 'gguf/org/repo/m.gguf'), 'tampered')
  const other = provisioner(t, { env: { HF_ENDPOINT: h.url } }, root)
  await other.store.delete('hf:org/repo/m.gguf')
  mkdirSync(join(root, 'gguf/org/repo'), { recursive: true })
  writeFileSync(join(root, 'gguf/org/repo/m.gguf'), 'tampered')
  const again = await other.p.ensurePresent('hf:org/repo/m.gguf', digest)
  t.same(readFileSync(again.local_path), data, 'a file that fails verification is fetched again')
})

t.test('fetch errors: 404 is NotFound, an unreachable host is FetchFailed, 403 hints at HF_TOKEN', async (t) => {
  const h = await hub(t)
  const { p } = provisioner(t, { env: { HF_ENDPOINT: h.url } })
  await t.rejects(p.ensurePresent('hf:org/repo/none.gguf'), { code: 'ORC_ERR_MODEL_NOT_FOUND', message: /answered 404/ })
  await t.rejects(p.ensurePresent('http://127.0.0.1:1/m.gguf'), { code: 'ORC_ERR_MODEL_FETCH_FAILED', message: /could not be reached/ })
  await t.rejects(p.ensurePresent('hf:org/repo'), { code: 'ORC_ERR_MODEL_NOT_FOUND' })
  const ac = new AbortController()
  ac.abort()
  h.put('plain', 'x.bin', 'x')
  await t.rejects(p.ensurePresent(`${h.url}/plain/x.bin`, null, { signal: ac.signal }))
})

t.test('semaphore hands slots over in order and never exceeds its bound', async (t) => {
  const s = semaphore(2)
  let active = 0
  let max = 0
  const order: number[] = []
  await Promise.all(Array.from({ length: 6 }, (_, i) => s(async () => {
    active++
    max = Math.max(max, active)
    await new Promise((resolve) => setTimeout(resolve, 2))
    order.push(i)
    active--
  })))
  t.equal(max, 2)
  t.same(order.slice().sort(), [0, 1, 2, 3, 4, 5])
})
