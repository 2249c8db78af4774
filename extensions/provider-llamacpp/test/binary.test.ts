/**
 * Mode binary (spec pools §2.2, OC-CONFIG-6025) against a local HTTP server: the policy gates
 * before any request, the pinned sha256, the unpack and its reuse without a request, and a
 * real llama-server build when LLAMA_SERVER_BIN points at one (CI sets it).
 */
import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import type { ProvisionProgress, ProvisioningPolicy } from '../../../sdk/index.js'
import { manifestOf } from '../../../test/helpers/build.js'
import { which } from '../../../lib/provision/command.js'
import { obtainBinary } from '../binary.js'
import { buildVersion, parseVersionLine } from '../binary-facts.js'
import { poolPolicy, type ObtainContext } from '../obtain.js'

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const scratch = (t: Test, prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(d, { recursive: true, force: true }))
  return d
}

/** A fake llama-server: prints a version line the way llama.cpp does (stderr), exits `code`. */
const fakeServer = (line = 'version: 6550 (1a2b3c4d)', code = 0): string =>
  `#!/bin/sh\necho "${line}" >&2\necho "built with cc for x86_64-linux-gnu" >&2\nexit ${code}\n`

/** A tarball of `files` (path → content; executables get 0755), made with the system tar as a release would be. */
function tarball (t: Test, files: Record<string, string>, fmt: 'tar.gz' | 'zip' = 'tar.gz'): Buffer {
  const stage = scratch(t, 'orc-bin-stage-')
  const root = join(stage, 'root')
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true })
    writeFileSync(join(root, rel), content)
    if (content.startsWith('#!')) chmodSync(join(root, rel), 0o755)
  }
  const out = join(stage, `out.${fmt}`)
  if (fmt === 'zip') execFileSync('zip', ['-qr', out, '.'], { cwd: root })
  else execFileSync('tar', ['-czf', out, '-C', root, '.'])
  return readFileSync(out)
}

interface Served { server: Server, base: string, hits: Record<string, number> }

/** A local server: each path answers its body, or a status, or a redirect. */
async function serve (t: Test, routes: Record<string, Buffer | number | { location: string }>): Promise<Served> {
  const hits: Record<string, number> = {}
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    hits[path] = (hits[path] ?? 0) + 1
    const r = routes[path]
    if (r === undefined || typeof r === 'number') { res.writeHead(r ?? 404).end(); return }
    if (!Buffer.isBuffer(r)) { res.writeHead(302, { location: r.location }).end(); return }
    res.writeHead(200, { 'content-length': r.length, 'content-type': 'application/octet-stream' }).end(r)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { server, base: `http://127.0.0.1:${(server.address() as { port: number }).port}`, hits }
}

const OPEN: ProvisioningPolicy = { allow_outbound_network: true, outbound_allowlist: [], allow_package_installs: false, allow_binary_downloads: true }

function ctxOf (t: Test, binary: Record<string, unknown>, o: { policy?: ProvisioningPolicy, prov?: Record<string, unknown>, devices?: number[] } = {}) {
  const cacheRoot = scratch(t, 'orc-bin-cache-')
  const pool = manifestOf({
    pools: [{
      id: 'bin',
      engine: 'llamacpp',
      model: 'tiny',
      devices: o.devices ?? [],
      provisioning: { mode: 'binary', compute_policy: 'cpu-fallback', binary, ...o.prov },
    }],
  }).pools[0]!
  const progress: ProvisionProgress[] = []
  const narrated: Array<{ action: string, level: string | undefined }> = []
  const ctx: ObtainContext = {
    pool,
    policy: poolPolicy(o.policy ?? OPEN, pool),
    env: process.env,
    cacheRoot,
    progress: (p) => { progress.push(p) },
    narrate: (action, _h, _f, level) => { narrated.push({ action, level }) },
  }
  return { ctx, cacheRoot, progress, narrated }
}

const SCRIPT = fakeServer()
const CPU_TAR: Record<string, string> = {
  'llama-b6550/build/bin/llama-server': SCRIPT,
  'llama-b6550/build/bin/libllama.so': 'not really a library',
  'llama-b6550/LICENSE': 'MIT',
}

t.test('download, verify, unpack: the llama-server inside, its digest and version; a second prepare sends no request', async (t) => {
  const tar = tarball(t, CPU_TAR)
  const s = await serve(t, { '/llama-b6550-bin-ubuntu-x64.tar.gz': tar })
  const hex = sha(tar)
  const { ctx, cacheRoot, progress, narrated } = ctxOf(t, { url: `${s.base}/llama-b6550-bin-ubuntu-x64.tar.gz?sig=secret`, checksum: `sha256:${hex}` })
  const got = await obtainBinary(ctx)
  const dir = join(cacheRoot, 'llamacpp', 'bin', hex.slice(0, 16))
  const binary = join(dir, 'llama-b6550', 'build', 'bin', 'llama-server')
  t.same(got, {
    binary,
    version: 'llama.cpp-b6550',
    build_ref: null,
    digest: `sha256:${sha(Buffer.from(SCRIPT))}`,
    build_flags: null,
    compute_mode: 'cpu',
    artifacts: [binary],
  })
  t.ok(statSync(binary).mode & 0o111, 'executable')
  t.equal(readFileSync(join(dir, 'llama-b6550', 'LICENSE'), 'utf8'), 'MIT', 'the whole archive is unpacked beside it')
  t.notOk(existsSync(join(cacheRoot, 'llamacpp', 'bin', `${hex}.part`)), 'the archive is gone after the unpack')
  t.same(readdirSync(join(cacheRoot, 'llamacpp', 'bin')).filter((n) => n.startsWith('.')), [], 'no temp unpack is left')
  const bytes = progress.filter((p) => p.step === 'binary-download' && p.unit === 'bytes')
  t.match(bytes.at(-1), { done: tar.length, total: tar.length })
  t.ok(progress.some((p) => p.step === 'binary-unpack'))
  t.equal(s.hits['/llama-b6550-bin-ubuntu-x64.tar.gz'], 1)

  const again = await obtainBinary(ctx)
  t.same(again, got, 'the same binary')
  t.equal(s.hits['/llama-b6550-bin-ubuntu-x64.tar.gz'], 1, 'no second request')
  t.ok(narrated.some((n) => n.action === 'reuse'))

  // a binary changed on disk is not trusted: it is fetched and unpacked again
  writeFileSync(binary, fakeServer('version: 1 (deadbeef)'))
  const refetched = await obtainBinary(ctx)
  t.equal(refetched.digest, got.digest)
  t.equal(s.hits['/llama-b6550-bin-ubuntu-x64.tar.gz'], 2)
})

t.test('a checksum mismatch: the download is discarded, the error names both digests, nothing is unpacked', async (t) => {
  const tar = tarball(t, CPU_TAR)
  const s = await serve(t, { '/l.tar.gz': tar })
  const wrong = sha(Buffer.from('another release'))
  const { ctx, cacheRoot } = ctxOf(t, { url: `${s.base}/l.tar.gz`, checksum: `sha256:${wrong}`, })
  await t.rejects(obtainBinary(ctx), {
    code: 'ORC_ERR_LLAMACPP_BINARY',
    message: new RegExp(`expected sha256:${wrong}, got sha256:${sha(tar)}`),
  })
  t.same(readdirSync(join(cacheRoot, 'llamacpp', 'bin')).filter((n) => !n.endsWith('.lock')), [], 'no .part, no unpack')
})

t.test('policy gates, before any request', async (t) => {
  const tar = tarball(t, CPU_TAR)
  const s = await serve(t, { '/l.tar.gz': tar })
  const binary = { url: `${s.base}/l.tar.gz`, checksum: `sha256:${sha(tar)}` }

  const off = ctxOf(t, binary, { policy: { ...OPEN, allow_binary_downloads: false } })
  await t.rejects(obtainBinary(off.ctx), { code: 'ORC_ERR_LLAMACPP_POLICY', message: /policy\.allow_binary_downloads: true.*provisioning\.allow_binary_downloads/ })
  const poolOff = ctxOf(t, binary, { prov: { allow_binary_downloads: false } })
  await t.rejects(obtainBinary(poolOff.ctx), { code: 'ORC_ERR_LLAMACPP_POLICY', message: /binary downloads are not allowed/ }, 'the pool\'s own gate narrows')

  const offline = ctxOf(t, binary, { policy: { ...OPEN, allow_outbound_network: false } })
  await t.rejects(obtainBinary(offline.ctx), { code: 'ORC_ERR_LLAMACPP_POLICY', message: /needs a download from 127\.0\.0\.1, and policy\.allow_outbound_network is false/ })
  const listed = ctxOf(t, binary, { policy: { ...OPEN, outbound_allowlist: ['github.com'] } })
  await t.rejects(obtainBinary(listed.ctx), { code: 'ORC_ERR_LLAMACPP_POLICY', message: /127\.0\.0\.1, which is not in policy\.outbound_allowlist \(github\.com\)/ })
  t.same(s.hits, {}, 'not one request')

  // every redirect hop passes the gate too: 127.0.0.1 is allowed, localhost is not
  const port = new URL(s.base).port
  const hop = await serve(t, { '/hop': { location: `http://localhost:${port}/l.tar.gz` } })
  const redirected = ctxOf(t, { ...binary, url: `${hop.base}/hop` }, { policy: { ...OPEN, outbound_allowlist: ['127.0.0.1'] } })
  await t.rejects(obtainBinary(redirected.ctx), { code: 'ORC_ERR_LLAMACPP_POLICY', message: /download from localhost, which is not in policy\.outbound_allowlist/ })
  t.equal(hop.hits['/hop'], 1)
  t.same(s.hits, {}, 'the refused hop was not followed')
})

t.test('a 404, a tarball without llama-server, bytes that are no archive, a llama-server that fails', async (t) => {
  const noServer = tarball(t, { 'llama/bin/llama-cli': SCRIPT, 'llama/README.md': 'hi' })
  const failing = tarball(t, { 'bin/llama-server': '#!/bin/sh\necho "error while loading shared libraries: libllama.so.0" >&2\nexit 127\n' })
  const garbage = Buffer.from('<html>not found</html>')
  const s = await serve(t, { '/gone.tar.gz': 404, '/none.tar.gz': noServer, '/fail.tar.gz': failing, '/page': garbage })
  const of = (path: string, body: Buffer | null) => ctxOf(t, { url: `${s.base}${path}`, checksum: `sha256:${sha(body ?? Buffer.alloc(0))}` })

  await t.rejects(obtainBinary(of('/gone.tar.gz', null).ctx), { code: 'ORC_ERR_LLAMACPP_BINARY', message: /\/gone\.tar\.gz answered 404/ })
  const none = of('/none.tar.gz', noServer)
  await t.rejects(obtainBinary(none.ctx), { code: 'ORC_ERR_LLAMACPP_BINARY', message: /holds no llama-server/ })
  t.same(readdirSync(join(none.cacheRoot, 'llamacpp', 'bin')).filter((n) => !n.endsWith('.lock')), [], 'the unpack is removed, nothing is left')
  await t.rejects(obtainBinary(of('/fail.tar.gz', failing).ctx), {
    code: 'ORC_ERR_LLAMACPP_BINARY',
    message: /has a llama-server that does not run: llama-server --version exited with 127: error while loading shared libraries/,
  })
  await t.rejects(obtainBinary(of('/page', garbage).ctx), { code: 'ORC_ERR_LLAMACPP_BINARY', message: /is neither an archive .* nor an executable/ })
  await t.rejects(obtainBinary(ctxOf(t, { url: 'ftp://example.org/x', checksum: `sha256:${'0'.repeat(64)}` }).ctx), { message: /must be http\(s\), got ftp:/ })
  await t.rejects(obtainBinary(ctxOf(t, { url: 'releases/llama.tar.gz', checksum: `sha256:${'0'.repeat(64)}` }).ctx), { message: /releases\/llama\.tar\.gz is not a URL/ })
})

t.test('a bare executable, a CUDA build, and the compute policy', async (t) => {
  const bare = Buffer.from(fakeServer('version: 0.9.1 (build 7100, commit 0abc123)'))
  const cuda = tarball(t, { 'bin/llama-server': SCRIPT, 'bin/libggml-cuda.so': 'cuda backend', 'bin/libggml-base.so': 'base' })
  const cpu = tarball(t, CPU_TAR)
  const s = await serve(t, { '/llama-server': bare, '/cuda.tar.gz': cuda, '/cpu.tar.gz': cpu })

  const b = await obtainBinary(ctxOf(t, { url: `${s.base}/llama-server`, checksum: `sha256:${sha(bare)}` }).ctx)
  t.equal(basename(b.binary), 'llama-server')
  t.equal(b.version, 'llama.cpp-b7100', 'the build-info version line')
  t.equal(b.digest, `sha256:${sha(bare)}`, 'copied as is')

  const install = scratch(t, 'orc-bin-install-')
  const g = await obtainBinary(ctxOf(t, { url: `${s.base}/cuda.tar.gz`, checksum: `sha256:${sha(cuda)}`, install_dir: install }, { devices: [0] }).ctx)
  t.equal(g.compute_mode, 'gpu', 'libggml-cuda.so beside llama-server')
  t.equal(dirname(dirname(g.binary)), join(install, sha(cuda).slice(0, 16)), 'under install_dir')
  const only = await obtainBinary(ctxOf(t, { url: `${s.base}/cuda.tar.gz`, checksum: `sha256:${sha(cuda)}` }, { prov: { compute_policy: 'cpu-only' } }).ctx)
  t.equal(only.compute_mode, 'cpu', 'cpu-only runs a CUDA build on the CPU')

  const required = ctxOf(t, { url: `${s.base}/cpu.tar.gz`, checksum: `sha256:${sha(cpu)}` }, { devices: [0], prov: { compute_policy: 'gpu-required' } })
  await t.rejects(obtainBinary(required.ctx), { code: 'ORC_ERR_LLAMACPP_GPU_REQUIRED', message: /has no CUDA backend \(no libggml-cuda\.so beside it\)/ })
  const fallback = ctxOf(t, { url: `${s.base}/cpu.tar.gz`, checksum: `sha256:${sha(cpu)}` }, { devices: [0] })
  t.equal((await obtainBinary(fallback.ctx)).compute_mode, 'cpu')
  t.ok(fallback.narrated.some((n) => n.action === 'compute-policy' && n.level === 'warn'), 'cpu-fallback says it runs on the CPU')
})

t.test('a .zip release', { skip: (await which('zip')) === null ? 'needs zip to make the archive' : false }, async (t) => {
  const zip = tarball(t, { 'build/bin/llama-server': SCRIPT }, 'zip')
  const s = await serve(t, { '/llama-bin.zip': zip })
  const got = await obtainBinary(ctxOf(t, { url: `${s.base}/llama-bin.zip`, checksum: `sha256:${sha(zip)}` }).ctx)
  t.equal(got.version, 'llama.cpp-b6550')
  t.ok(statSync(got.binary).mode & 0o111)
})

t.test('version lines of both llama.cpp formats', async (t) => {
  t.same(parseVersionLine('version: 6550 (1a2b3c4d)'), { build: 6550, commit: '1a2b3c4d', line: 'version: 6550 (1a2b3c4d)' })
  t.match(parseVersionLine('version: 0.5.0-dev (build 1, commit de3ff81)'), { build: 1, commit: 'de3ff81' })
  t.equal(parseVersionLine('llama-server 1.0'), null)
  t.equal(buildVersion({ build: 6550, commit: '1a2b3c4d', line: '' }), 'llama.cpp-b6550')
  t.equal(buildVersion({ build: 1, commit: 'de3ff81', line: '' }), 'llama.cpp-de3ff81', 'without git history the commit is the identity')
})

const REAL = process.env.LLAMA_SERVER_BIN
const realSkip = REAL ? false : 'LLAMA_SERVER_BIN is not set (CI sets it to a llama-server build)'
t.test('a real llama-server build, with the shared libraries beside it', { skip: realSkip }, async (t) => {
  const bin = dirname(REAL!)
  // the whole folder: llama-server loads libllama, libggml* and the backends from beside itself
  const stage = scratch(t, 'orc-bin-real-')
  const root = join(stage, 'llama-bin')
  mkdirSync(root)
  execFileSync('cp', ['-a', `${bin}/.`, root])
  if (basename(REAL!) !== 'llama-server') copyFileSync(REAL!, join(root, 'llama-server'))
  execFileSync('tar', ['-czf', join(stage, 'real.tar.gz'), '-C', stage, 'llama-bin'])
  const tar = readFileSync(join(stage, 'real.tar.gz'))
  const s = await serve(t, { '/real.tar.gz': tar })
  const { ctx } = ctxOf(t, { url: `${s.base}/real.tar.gz`, checksum: `sha256:${sha(tar)}` })
  const got = await obtainBinary(ctx)
  const line = (execFileSync('sh', ['-c', '"$0" --version 2>&1', REAL!], { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('version: '))) ?? ''
  t.equal(got.version, buildVersion(parseVersionLine(line)!), `from "${line}"`)
  t.equal(got.digest, `sha256:${sha(readFileSync(REAL!))}`)
  t.equal(got.compute_mode, readdirSync(bin).some((n) => n.startsWith('libggml-cuda')) ? 'gpu' : 'cpu')
  t.ok(readdirSync(dirname(got.binary)).some((n) => n.startsWith('libllama')), 'its libraries came along')
})
