/**
 * Mode `binary` (spec pools §2.2, OC-CONFIG-6025): a prebuilt llama-server from a pinned URL.
 * It is downloaded (resumable, hashed while written), must match the configured sha256, and
 * is unpacked into `<install_dir>/<checksum hex, first 16>/` by a rename, so a folder there
 * is always a whole, verified unpack; a marker written last lets the next prepare reuse it
 * without any network. The sha256 pins the bytes, so the unpack is as trusted as the pin.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, readdir, realpath, rename, rm, stat, chmod, copyFile, writeFile } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { withLock, type LockOptions } from '../../lib/catalog-store/lock.js'
import { fsyncDir } from '../../lib/atomic.js'
import { download } from '../../lib/download/download.js'
import { outboundRefusal } from '../../lib/download/policy.js'
import { runTool } from '../../lib/provision/command.js'
import { describeMissing, findTools } from '../../lib/provision/preflight.js'
import { redactString } from '../../sdk/redact.js'
import { binaryDigest, buildVersion, computeFor, probeServer, supportedCompute } from './binary-facts.js'
import { ORC_ERR_LLAMACPP_BINARY, ORC_ERR_LLAMACPP_POLICY, ORC_ERR_LLAMACPP_TOOL_MISSING } from './errors.js'
import type { ObtainContext, Obtained } from './obtain.js'

/** Written into the unpack last: its presence means the folder is complete and verified. No URL: it may carry a signed token. */
const MARKER = '.llama-orch-binary.json'
interface Marker { checksum: string, binary: string, digest: string, version: string }

/** Where a pool's binaries are unpacked (spec §5.3: `~/.cache/llama-orch/llamacpp/bin` unless `install_dir`). */
export const binaryInstallDir = (ctx: Pick<ObtainContext, 'pool' | 'cacheRoot'>): string =>
  ctx.pool.provisioning.binary?.install_dir ?? join(ctx.cacheRoot, 'llamacpp', 'bin')

const lockOptions = (ctx: ObtainContext): LockOptions =>
  ({ waitMs: 3600_000, foreignStaleMs: 3600_000, what: 'the llama.cpp binary cache', ...(ctx.signal ? { signal: ctx.signal } : {}) })

/** A URL as messages show it: no query (signed URLs carry their token there), no credentials. */
const shown = (url: URL): string => redactString(`${url.origin}${url.pathname}`)

export async function obtainBinary (ctx: ObtainContext): Promise<Obtained> {
  const pool = ctx.pool.id
  const b = ctx.pool.provisioning.binary
  if (!b?.url || !b.checksum || !/^sha256:[0-9a-f]{64}$/.test(b.checksum)) {
    throw new ORC_ERR_LLAMACPP_BINARY(pool, 'mode binary needs provisioning.binary.url and provisioning.binary.checksum (sha256:<64 lowercase hex>)')
  }
  // a trust decision about running prebuilt binaries, so it holds even when one is already unpacked
  if (!ctx.policy.allow_binary_downloads) {
    throw new ORC_ERR_LLAMACPP_POLICY(pool, 'mode binary runs a downloaded llama-server, and binary downloads are not allowed; ' +
      'set policy.allow_binary_downloads: true in the manifest (and leave this pool\'s provisioning.allow_binary_downloads unset or true), or use mode source')
  }
  let url: URL
  try { url = new URL(b.url) } catch { throw new ORC_ERR_LLAMACPP_BINARY(pool, `provisioning.binary.url ${redactString(b.url)} is not a URL`) }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ORC_ERR_LLAMACPP_BINARY(pool, `provisioning.binary.url must be http(s), got ${url.protocol}`)
  }
  const hex = b.checksum.slice('sha256:'.length)
  const dir = binaryInstallDir(ctx)
  const target = join(dir, hex.slice(0, 16))
  await mkdir(dir, { recursive: true })
  // one download and unpack per binary: a second pool (or process) waits, then reuses it
  return await withLock(join(dir, `${hex.slice(0, 16)}.lock`), lockOptions(ctx), async () => {
    let got = await reuse(target, b.checksum!)
    if (got) {
      ctx.narrate?.('reuse', `pool ${pool} reuses llama-server ${got.version} from ${target}; nothing to download`,
        { binary: got.binary, engine_digest: got.digest })
    } else {
      got = await fetchAndUnpack(ctx, { url, hex, dir, target })
    }
    const supported = await supportedCompute(got.binary)
    const compute = computeFor(ctx.pool, supported, `the llama-server from ${shown(url)} has no CUDA backend (no libggml-cuda.so beside it); ` +
      'point provisioning.binary.url (and checksum) at a CUDA build')
    if (compute === 'cpu' && ctx.pool.devices.length > 0 && ctx.pool.provisioning.compute_policy !== 'cpu-only') {
      ctx.narrate?.('compute-policy', `pool ${pool} runs llama-server on the CPU: the binary has no CUDA backend`, { compute_mode: 'cpu' }, 'warn')
    }
    return { binary: got.binary, version: got.version, build_ref: null, digest: got.digest, build_flags: null, compute_mode: compute, artifacts: [got.binary] }
  })
}

interface Unpacked { binary: string, digest: string, version: string }

/** The unpack of an earlier prepare, when its marker is there and the binary still has the digest it had then. */
async function reuse (target: string, checksum: string): Promise<Unpacked | null> {
  const m = await readFile(join(target, MARKER), 'utf8').then((t) => JSON.parse(t) as Marker, () => null)
  if (m?.checksum !== checksum) return null
  const binary = join(target, m.binary)
  const digest = await binaryDigest(binary).catch(() => null)
  return digest === m.digest ? { binary, digest, version: m.version } : null
}

interface Fetch { url: URL, hex: string, dir: string, target: string }

async function fetchAndUnpack (ctx: ObtainContext, f: Fetch): Promise<Unpacked> {
  const pool = ctx.pool.id
  const what = `pool ${pool}'s llama-server binary`
  const refused = outboundRefusal(ctx.policy, f.url.hostname, what)
  if (refused !== null) throw new ORC_ERR_LLAMACPP_POLICY(pool, refused)
  // the tool a name promises is checked before a download that could take minutes; the bytes decide at unpack
  const named = /\.zip$/i.test(f.url.pathname) ? 'zip' : /\.(tar(\.\w+)?|tgz|txz)$/i.test(f.url.pathname) ? 'tar' : 'exe'
  await needTool(ctx, named)
  ctx.progress?.({ step: 'binary-download' })
  ctx.narrate?.('binary-download', `pool ${pool} downloads llama-server from ${f.url.hostname}`, { url: shown(f.url) })
  const part = join(f.dir, `${f.hex}.part`)
  const got = await download({
    url: f.url.href,
    part,
    policy: ctx.policy,
    what,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onBytes: (done, total) => ctx.progress?.({ step: 'binary-download', done, ...(total !== null ? { total } : {}), unit: 'bytes' }),
    // a redirect to a host the policy refuses is a policy error like the first hop
    fail: (kind, message) => kind === 'PolicyDenied'
      ? new ORC_ERR_LLAMACPP_POLICY(pool, redactString(message))
      : new ORC_ERR_LLAMACPP_BINARY(pool, redactString(message)),
  })
  try {
    if (got.hex !== f.hex) {
      throw new ORC_ERR_LLAMACPP_BINARY(pool, `the download from ${shown(f.url)} does not match provisioning.binary.checksum: ` +
        `expected sha256:${f.hex}, got sha256:${got.hex}; it was discarded. Check the URL and the checksum the release publishes`)
    }
    return await unpack(ctx, part, f)
  } finally {
    // verified and unpacked, or wrong: either way the archive is not needed again
    await rm(part, { force: true })
  }
}

type Kind = 'tar' | 'zip' | 'exe'

/** The unpacker `kind` needs, on the PATH the unpack will run with. */
async function needTool (ctx: ObtainContext, kind: Kind): Promise<void> {
  if (kind === 'exe') return
  const missing = (await findTools([kind === 'tar' ? 'tar' : 'unzip'], ctx.env)).filter((t) => t.found === null)
  if (missing.length > 0) throw new ORC_ERR_LLAMACPP_TOOL_MISSING(ctx.pool.id, describeMissing(missing))
}

/** What the downloaded bytes are, by their magic, not by the URL (a signed or redirecting URL may have no suffix). */
async function kindOf (file: string): Promise<Kind | null> {
  const fd = await open(file, 'r')
  const head = Buffer.alloc(512)
  try { await fd.read(head, 0, 512, 0) } finally { await fd.close() }
  const starts = (...bytes: number[]): boolean => bytes.every((x, i) => head[i] === x)
  if (starts(0x1f, 0x8b) || starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00) || starts(0x42, 0x5a, 0x68) || starts(0x28, 0xb5, 0x2f, 0xfd)) return 'tar'
  if (head.toString('latin1', 257, 262) === 'ustar') return 'tar'
  if (starts(0x50, 0x4b, 0x03, 0x04)) return 'zip'
  if (starts(0x7f, 0x45, 0x4c, 0x46) || starts(0x23, 0x21)) return 'exe' // ELF, or a #! script
  return null
}

async function unpack (ctx: ObtainContext, part: string, f: Fetch): Promise<Unpacked> {
  const pool = ctx.pool.id
  const fail = (why: string): never => { throw new ORC_ERR_LLAMACPP_BINARY(pool, `the download from ${shown(f.url)} ${why}`) }
  ctx.progress?.({ step: 'binary-unpack' })
  const kind = await kindOf(part) ?? fail('is neither an archive (.tar.gz, .tar.xz, .tar, .zip) nor an executable')
  await needTool(ctx, kind)
  const tmp = join(f.dir, `.${f.hex.slice(0, 16)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  await mkdir(tmp)
  try {
    if (kind === 'exe') {
      await copyFile(part, join(tmp, 'llama-server'))
    } else {
      // tar reads the compression from the bytes; --no-same-owner: as root, never chown to the archive's uids
      const r = kind === 'tar'
        ? await runTool('tar', ['-x', '-f', part, '-C', tmp, '--no-same-owner'], { env: ctx.env, ...(ctx.signal ? { signal: ctx.signal } : {}) })
        : await runTool('unzip', ['-q', '-o', part, '-d', tmp], { env: ctx.env, ...(ctx.signal ? { signal: ctx.signal } : {}) })
      if (r.code !== 0) fail(`could not be unpacked (${kind === 'tar' ? 'tar' : 'unzip'} exited with ${r.code ?? r.signal}: ${r.tail.split('\n').pop()})`)
    }
    const found = await findServer(tmp) ??
      fail('holds no llama-server (searched the whole archive); point provisioning.binary.url at a llama.cpp build that has one')
    await chmod(found, (await stat(found)).mode | 0o755)
    const probe = await probeServer(found, { ...ctx.env, ...ctx.pool.provisioning.env }, ctx.signal)
    if (!probe.ok) return fail(`has a llama-server that does not run: ${probe.why}`)
    const version = buildVersion(probe.build)
    const marker: Marker = { checksum: `sha256:${f.hex}`, binary: relative(tmp, found), digest: await binaryDigest(found), version }
    await writeFile(join(tmp, MARKER), JSON.stringify(marker))
    await rm(f.target, { recursive: true, force: true }) // a leftover without marker (an interrupted older unpack)
    await rename(tmp, f.target)
    await fsyncDir(f.dir)
    ctx.narrate?.('binary-unpack', `pool ${pool} unpacked llama-server ${version} into ${f.target}`,
      { binary: join(f.target, marker.binary), engine_digest: marker.digest })
    return { binary: join(f.target, marker.binary), digest: marker.digest, version }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
}

/** The shallowest `llama-server` in the unpack (release archives nest it, e.g. `build/bin/`), never one that points outside. */
async function findServer (root: string): Promise<string | null> {
  const real = await realpath(root)
  let level = [root]
  while (level.length > 0) {
    const next: string[] = []
    for (const d of level.sort()) {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = join(d, e.name)
        if (e.isDirectory()) next.push(p)
        else if (e.name === 'llama-server' && (e.isFile() || e.isSymbolicLink())) {
          const to = await realpath(p).catch(() => null)
          if (to?.startsWith(real + sep) && (await stat(to)).isFile()) return p
        }
      }
    }
    level = next
  }
  return null
}
