/**
 * Mode package and the install ladder (spec pools §2.3, ORCH-3434, D9) with fake package
 * managers: each fake is a small sh script first (and alone) on PATH that records its argv,
 * and "installs" by writing a version into a state folder and a llama-server onto PATH. No
 * real package manager can run: PATH holds only the fakes' folders.
 */
import t, { type Test } from 'tap'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ProvisionProgress, ProvisioningPolicy } from '../../../sdk/index.js'
import { manifestOf } from '../../../test/helpers/build.js'
import { which } from '../../../lib/provision/command.js'
import { installSystemPackages, obtainPackage } from '../package.js'
import { hostManager } from '../system-packages.js'
import { poolPolicy, type ObtainContext } from '../obtain.js'

const CP = (await which('cp'))!
const SERVER = '#!/bin/sh\necho "version: 6550 (1a2b3c4d)" >&2\necho "built with cc for x86_64-linux-gnu" >&2\n'

// shared by the fakes: look a package up in a "repo" list (`name=version ...`), and install it
const COMMON = `
lookup () { for e in $2; do case "$e" in "$1="*) echo "\${e#*=}"; return;; esac; done; }
fake_install () {
  echo "$2" > "$FAKE_STATE/$1"
  if [ -z "$FAKE_NO_SERVER" ]; then ${CP} "$FAKE_SRC" "$FAKE_INST/llama-server"; fi
}
`

const FAKES: Record<string, string> = {
  pacman: `echo "pacman $* sudo=$FAKE_SUDO" >> "$FAKE_LOG"
case "$1" in
  -Q) if [ -f "$FAKE_STATE/$2" ]; then read -r v < "$FAKE_STATE/$2"; echo "$2 $v"; exit 0; fi
      echo "error: package '$2' was not found" >&2; exit 1 ;;
  -Ql) [ -f "$FAKE_STATE/$2" ] || exit 1
      echo "$2 /usr/"; echo "$2 $FAKE_INST/llama-server"; [ -n "$FAKE_CUDA" ] && echo "$2 /usr/lib/libggml-cuda.so"; exit 0 ;;
  -S) shift
      [ -n "$FAKE_FAIL" ] && { echo "resolving dependencies..."; echo "$FAKE_FAIL" >&2; exit \${FAKE_FAIL_CODE:-1}; }
      for a in "$@"; do case "$a" in -*) ;; *) n="\${a#*/}"
        [ -n "$(lookup "$n" "$FAKE_REPO")" ] || { echo "error: target not found: $n" >&2; exit 1; } ;; esac; done
      for a in "$@"; do case "$a" in -*) ;; *) n="\${a#*/}"; fake_install "$n" "$(lookup "$n" "$FAKE_REPO")" ;; esac; done
      exit 0 ;;
esac
exit 2`,
  'apt-get': `echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND sudo=$FAKE_SUDO" >> "$FAKE_LOG"
case "$1" in
  update) : > "$FAKE_STATE/.updated"; exit 0 ;;
  install) shift
      [ -n "$FAKE_FAIL" ] && { echo "$FAKE_FAIL" >&2; exit \${FAKE_FAIL_CODE:-100}; }
      skip=""
      for a in "$@"; do
        if [ -n "$skip" ]; then skip=""; continue; fi
        case "$a" in -t) skip=1 ;; -*) ;; *)
          n="\${a%%=*}"; pin=""; case "$a" in *=*) pin="\${a#*=}" ;; esac
          v="$(lookup "$n" "$FAKE_REPO")"
          if [ -z "$v" ] || { [ -n "$FAKE_NEEDS_UPDATE" ] && [ ! -f "$FAKE_STATE/.updated" ]; }; then echo "E: Unable to locate package $n" >&2; exit 100; fi
          fake_install "$n" "\${pin:-$v}" ;;
        esac
      done
      exit 0 ;;
esac
exit 100`,
  'dpkg-query': `echo "dpkg-query $*" >> "$FAKE_LOG"
for a in "$@"; do n="$a"; done
if [ -f "$FAKE_STATE/$n" ]; then read -r v < "$FAKE_STATE/$n"; echo "installed $v"; exit 0; fi
echo "dpkg-query: no packages found matching $n" >&2; exit 1`,
  dpkg: `echo "dpkg $*" >> "$FAKE_LOG"
[ -f "$FAKE_STATE/$2" ] || exit 1
echo "/usr/share/doc/$2"; echo "$FAKE_INST/llama-server"; [ -n "$FAKE_CUDA" ] && echo "/usr/lib/x86_64-linux-gnu/ggml/backends0/libggml-cuda.so"; exit 0`,
  sudo: `echo "sudo $*" >> "$FAKE_LOG"
[ -n "$FAKE_SUDO_PASSWORD" ] && { echo "sudo: a password is required" >&2; exit 1; }
while [ $# -gt 0 ]; do case "$1" in -n) shift ;; *=*) export "$1"; shift ;; *) break ;; esac; done
export FAKE_SUDO=1
exec "$@"`,
  paru: `echo "paru $* sudo=$FAKE_SUDO" >> "$FAKE_LOG"
for a in "$@"; do case "$a" in -*) ;; *) v="$(lookup "$a" "$FAKE_AUR")"
  [ -n "$v" ] || { echo "error: could not find all required packages" >&2; exit 1; }; fake_install "$a" "$v" ;; esac; done
exit 0`,
}

const OS = {
  debian: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
  ubuntu: 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n',
  cachyos: 'NAME="CachyOS Linux"\nID="cachyos"\nID_LIKE="arch"\n',
  arch: 'NAME="Arch Linux"\nID=arch\n',
  fedora: 'NAME="Fedora Linux"\nID=fedora\nID_LIKE="rhel centos"\n',
}

interface Host {
  env: NodeJS.ProcessEnv
  osRelease: string
  fake: string
  inst: string
  cacheRoot: string
  calls: () => string[]
  /** Marks `name` installed at `version` before the test runs. */
  installed: (name: string, version: string) => void
}

function host (t: Test, os: keyof typeof OS, tools: string[], env: Record<string, string> = {}): Host {
  const root = mkdtempSync(join(tmpdir(), 'orc-pkg-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const [fake, inst, state, cacheRoot] = ['fake', 'inst', 'state', 'cache'].map((d) => join(root, d)) as [string, string, string, string]
  for (const d of [fake, inst, state, cacheRoot]) mkdirSync(d)
  for (const tool of tools) {
    writeFileSync(join(fake, tool), `#!/bin/sh\n${COMMON}\n${FAKES[tool]!}\n`)
    chmodSync(join(fake, tool), 0o755)
  }
  writeFileSync(join(root, 'server.src'), SERVER)
  chmodSync(join(root, 'server.src'), 0o755)
  const osRelease = join(root, 'os-release')
  writeFileSync(osRelease, OS[os])
  const log = join(root, 'calls.log')
  return {
    env: {
      PATH: `${fake}:${inst}`,
      HOME: root,
      FAKE_LOG: log,
      FAKE_STATE: state,
      FAKE_INST: inst,
      FAKE_SRC: join(root, 'server.src'),
      FAKE_REPO: 'llama.cpp=b6550-1 cmake=3.31.6-1 ninja=1.12.1-1',
      ...env,
    },
    osRelease,
    fake,
    inst,
    cacheRoot,
    calls: () => existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [],
    installed: (name, version) => {
      writeFileSync(join(state, name), `${version}\n`)
      writeFileSync(join(inst, 'llama-server'), SERVER)
      chmodSync(join(inst, 'llama-server'), 0o755)
    },
  }
}

const ALLOW: ProvisioningPolicy = { allow_outbound_network: false, outbound_allowlist: [], allow_package_installs: true, allow_binary_downloads: false }

function ctxOf (h: Host, pkg: Record<string, unknown>, o: { policy?: ProvisioningPolicy, prov?: Record<string, unknown>, devices?: number[] } = {}) {
  const pool = manifestOf({
    pools: [{
      id: 'pkg',
      engine: 'llamacpp',
      model: 'tiny',
      devices: o.devices ?? [],
      provisioning: { mode: 'package', compute_policy: 'cpu-fallback', package: pkg, ...o.prov },
    }],
  }).pools[0]!
  const progress: ProvisionProgress[] = []
  const ctx: ObtainContext = { pool, policy: poolPolicy(o.policy ?? ALLOW, pool), env: h.env, cacheRoot: h.cacheRoot, progress: (p) => { progress.push(p) } }
  return { ctx, progress }
}

const digestOf = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`
const DPKG_Q = (name: string): string => `dpkg-query -W -f=\${db:Status-Status} \${Version} ${name}`
/** The calls that change the system (everything but the queries). */
const changes = (calls: string[]): string[] => calls.filter((c) => !/^(pacman -Ql? |dpkg-query |dpkg -L )/.test(c))

t.test('Debian as root: apt-get install, non-interactive, no sudo; the version is the package\'s', async (t) => {
  const h = host(t, 'debian', ['apt-get', 'dpkg-query', 'dpkg', 'sudo'])
  const { ctx, progress } = ctxOf(h, { name: 'llama.cpp' })
  const got = await obtainPackage(ctx, { osRelease: h.osRelease, isRoot: true })
  const binary = join(h.inst, 'llama-server')
  t.same(got, { binary, version: 'llama.cpp-b6550-1', build_ref: null, digest: digestOf(SERVER), build_flags: null, compute_mode: 'cpu', artifacts: [binary] })
  t.same(h.calls(), [
    DPKG_Q('llama.cpp'),
    'apt-get install -y --no-install-recommends llama.cpp DEBIAN_FRONTEND=noninteractive sudo=',
    DPKG_Q('llama.cpp'),
    'dpkg -L llama.cpp',
  ])
  t.ok(progress.some((p) => p.step === 'package-install'))
  t.match(readFileSync(join(h.cacheRoot, 'llamacpp', 'package.log'), 'utf8'), /\$ .*\/apt-get install -y --no-install-recommends llama\.cpp/)
})

t.test('Arch-like, not root: sudo -n pacman -S --needed --noconfirm', async (t) => {
  const h = host(t, 'cachyos', ['pacman', 'sudo', 'paru'])
  const { ctx } = ctxOf(h, { name: 'llama.cpp' })
  const got = await obtainPackage(ctx, { osRelease: h.osRelease, isRoot: false })
  t.equal(got.version, 'llama.cpp-b6550-1')
  t.equal(got.binary, join(h.inst, 'llama-server'), 'the llama-server the package owns (pacman -Ql)')
  t.same(changes(h.calls()), [
    `sudo -n ${join(h.fake, 'pacman')} -S --needed --noconfirm llama.cpp`,
    'pacman -S --needed --noconfirm llama.cpp sudo=1',
  ])
  t.same(h.calls().filter((c) => c.startsWith('pacman -Q ')), ['pacman -Q llama.cpp sudo=', 'pacman -Q llama.cpp sudo='], 'queries need no root')
})

t.test('already installed: nothing is installed, even when installs are not allowed', async (t) => {
  for (const os of ['arch', 'ubuntu'] as const) {
    const h = host(t, os, ['pacman', 'apt-get', 'dpkg-query', 'dpkg', 'sudo'])
    h.installed('llama.cpp', '0.0.6000-1')
    const { ctx } = ctxOf(h, { name: 'llama.cpp' }, { policy: { ...ALLOW, allow_package_installs: false } })
    const got = await obtainPackage(ctx, { osRelease: h.osRelease, isRoot: false })
    t.equal(got.version, 'llama.cpp-0.0.6000-1', os)
    t.same(changes(h.calls()), [], `${os}: only queries ran`)
  }
})

t.test('installs not allowed: the error names the setting and the exact command; nothing runs', async (t) => {
  const h = host(t, 'arch', ['pacman', 'sudo'])
  const { ctx } = ctxOf(h, { name: 'llama.cpp' }, { policy: { ...ALLOW, allow_package_installs: false } })
  await t.rejects(obtainPackage(ctx, { osRelease: h.osRelease, isRoot: false }), {
    code: 'ORC_ERR_LLAMACPP_PACKAGE',
    message: /llama\.cpp not installed, and package installs are not allowed; set policy\.allow_package_installs: true .*provisioning\.allow_package_installs.*install by hand: sudo pacman -S --needed --noconfirm llama\.cpp$/,
  })
  const narrowed = ctxOf(h, { name: 'llama.cpp' }, { prov: { allow_package_installs: false } })
  await t.rejects(obtainPackage(narrowed.ctx, { osRelease: h.osRelease, isRoot: true }), { message: /not allowed.*install by hand: pacman -S/ }, 'the pool\'s own gate narrows')
  t.same(changes(h.calls()), [])
})

t.test('not root and no sudo: the command to run as root', async (t) => {
  const h = host(t, 'debian', ['apt-get', 'dpkg-query', 'dpkg'])
  const { ctx } = ctxOf(h, { name: 'llama.cpp' })
  await t.rejects(obtainPackage(ctx, { osRelease: h.osRelease, isRoot: false }), {
    code: 'ORC_ERR_LLAMACPP_PACKAGE',
    message: /needs root, and sudo is not on PATH; run as root: apt-get install -y --no-install-recommends llama\.cpp$/,
  })
  t.same(changes(h.calls()), [])
})

t.test('not in the pacman repositories: the AUR helper, as this user, never interactive', async (t) => {
  const h = host(t, 'arch', ['pacman', 'sudo', 'paru'], { FAKE_AUR: 'llama.cpp-cuda=b6550-2' })
  const { ctx } = ctxOf(h, { name: 'llama.cpp-cuda' })
  const got = await obtainPackage(ctx, { osRelease: h.osRelease, isRoot: false })
  t.equal(got.version, 'llama.cpp-cuda-b6550-2')
  t.same(changes(h.calls()), [
    `sudo -n ${join(h.fake, 'pacman')} -S --needed --noconfirm llama.cpp-cuda`,
    'pacman -S --needed --noconfirm llama.cpp-cuda sudo=1',
    'paru -S --needed --noconfirm --sudoflags=-n llama.cpp-cuda sudo=',
  ])

  const asRoot = host(t, 'arch', ['pacman', 'paru'], { FAKE_AUR: 'llama.cpp-cuda=b6550-2' })
  await t.rejects(obtainPackage(ctxOf(asRoot, { name: 'llama.cpp-cuda' }).ctx, { osRelease: asRoot.osRelease, isRoot: true }), {
    message: /not in the pacman repositories \(error: target not found: llama\.cpp-cuda\); an AUR helper must run as a normal user, not root/,
  })
  t.notOk(asRoot.calls().some((c) => c.startsWith('paru')), 'root never runs the AUR helper')
  const noHelper = host(t, 'arch', ['pacman', 'sudo'])
  await t.rejects(obtainPackage(ctxOf(noHelper, { name: 'llama.cpp-cuda' }).ctx, { osRelease: noHelper.osRelease, isRoot: false }), {
    message: /no AUR helper \(paru, yay\) is on PATH: install by hand, e\.g\. paru -S llama\.cpp-cuda/,
  })
})

t.test('a failing install: its exit status and last line', async (t) => {
  const h = host(t, 'arch', ['pacman', 'sudo'], { FAKE_FAIL: 'error: failed to commit transaction (conflicting files)', FAKE_FAIL_CODE: '3' })
  await t.rejects(obtainPackage(ctxOf(h, { name: 'llama.cpp' }).ctx, { osRelease: h.osRelease, isRoot: false }), {
    code: 'ORC_ERR_LLAMACPP_PACKAGE',
    message: /sudo pacman -S --needed --noconfirm llama\.cpp exited with status 3: error: failed to commit transaction \(conflicting files\)/,
  })
  const pw = host(t, 'debian', ['apt-get', 'dpkg-query', 'sudo'], { FAKE_SUDO_PASSWORD: '1' })
  await t.rejects(obtainPackage(ctxOf(pw, { name: 'llama.cpp' }).ctx, { osRelease: pw.osRelease, isRoot: false }), {
    message: /exited with status 1: sudo: a password is required \(sudo wants a password: allow this user passwordless sudo/,
  })
  t.same(changes(pw.calls()), ['sudo -n DEBIAN_FRONTEND=noninteractive ' + join(pw.fake, 'apt-get') + ' install -y --no-install-recommends llama.cpp'])
})

t.test('a pinned version: apt-get installs NAME=VERSION; pacman only accepts it installed', async (t) => {
  const h = host(t, 'debian', ['apt-get', 'dpkg-query', 'dpkg'])
  h.installed('llama.cpp', '0.0.6000-1')
  const pinned = ctxOf(h, { name: 'llama.cpp', version: '0.0.6550-2', repo: 'trixie-backports' })
  const got = await obtainPackage(pinned.ctx, { osRelease: h.osRelease, isRoot: true })
  t.equal(got.version, 'llama.cpp-0.0.6550-2', 'another installed version is replaced by the pinned one')
  t.same(changes(h.calls()), ['apt-get install -y --no-install-recommends -t trixie-backports llama.cpp=0.0.6550-2 DEBIAN_FRONTEND=noninteractive sudo='])

  const a = host(t, 'arch', ['pacman'])
  a.installed('llama.cpp', 'b6000-1')
  await t.rejects(obtainPackage(ctxOf(a, { name: 'llama.cpp', version: 'b6550-1' }).ctx, { osRelease: a.osRelease, isRoot: true }), {
    message: /llama\.cpp b6550-1 is wanted and b6000-1 is installed; pacman cannot install a chosen version/,
  })
  t.same(changes(a.calls()), [])
  t.equal((await obtainPackage(ctxOf(a, { name: 'llama.cpp', version: 'b6000-1' }).ctx, { osRelease: a.osRelease, isRoot: true })).version, 'llama.cpp-b6000-1')

  const r = host(t, 'arch', ['pacman'])
  await obtainPackage(ctxOf(r, { name: 'llama.cpp', repo: 'extra' }).ctx, { osRelease: r.osRelease, isRoot: true })
  t.same(changes(r.calls()), ['pacman -S --needed --noconfirm extra/llama.cpp sudo='], 'a repo pins pacman\'s sync repo')
})

t.test('a host that is neither Arch-like nor Debian-like, or lacks its package manager: the packages to install by hand', async (t) => {
  const h = host(t, 'fedora', ['pacman', 'apt-get', 'dpkg-query', 'sudo'])
  await t.rejects(obtainPackage(ctxOf(h, { name: 'llama.cpp' }).ctx, { osRelease: h.osRelease, isRoot: true }), {
    code: 'ORC_ERR_LLAMACPP_PACKAGE',
    message: /Arch-like hosts \(pacman\) and Debian-like hosts \(apt-get\), and this host \(fedora\) is neither; install by hand: llama\.cpp$/,
  })
  t.same(h.calls(), [], 'no package manager was asked anything')
  const bare = host(t, 'arch', [])
  await t.rejects(installSystemPackages(['cmake', 'ninja'], { pool: 'p', allow: true, env: bare.env, osRelease: bare.osRelease }), {
    message: /this host \(arch, without pacman on PATH\) is neither; install by hand: cmake, ninja/,
  })
  await t.rejects(installSystemPackages(['git'], { pool: 'p', allow: true, env: bare.env, osRelease: join(bare.fake, 'missing') }), { message: /this host \(no .*missing\)/ })
})

t.test('installSystemPackages for build tools: only the missing ones; a fresh apt host gets its lists first', async (t) => {
  const h = host(t, 'debian', ['apt-get', 'dpkg-query', 'sudo'], { FAKE_NEEDS_UPDATE: '1' })
  h.installed('cmake', '3.25.1-1')
  const lines: string[] = []
  const r = await installSystemPackages(['cmake', 'ninja'],
    { pool: 'p', allow: true, env: h.env, osRelease: h.osRelease, isRoot: false, onLine: (l) => lines.push(l) })
  t.same(r, { manager: 'apt-get', managerPath: join(h.fake, 'apt-get'), installed: ['ninja'], versions: { cmake: '3.25.1-1', ninja: '1.12.1-1' } })
  const apt = join(h.fake, 'apt-get')
  t.same(changes(h.calls()).filter((c) => c.startsWith('sudo')), [
    `sudo -n DEBIAN_FRONTEND=noninteractive ${apt} install -y --no-install-recommends ninja`,
    `sudo -n DEBIAN_FRONTEND=noninteractive ${apt} update`,
    `sudo -n DEBIAN_FRONTEND=noninteractive ${apt} install -y --no-install-recommends ninja`,
  ])
  t.ok(lines.includes('E: Unable to locate package ninja'), 'the tool output reaches onLine')
  t.same((await installSystemPackages(['cmake'], { pool: 'p', allow: false, env: h.env, osRelease: h.osRelease })).installed, [])
})

t.test('what the installed package gives: no llama-server, one that fails, a CUDA backend', async (t) => {
  const none = host(t, 'arch', ['pacman'], { FAKE_NO_SERVER: '1' })
  await t.rejects(obtainPackage(ctxOf(none, { name: 'llama.cpp' }).ctx, { osRelease: none.osRelease, isRoot: true }), {
    message: /package llama\.cpp b6550-1 provides no llama-server, and none is on PATH/,
  })
  const broken = host(t, 'arch', ['pacman'])
  broken.installed('llama.cpp', 'b6550-1')
  writeFileSync(join(broken.inst, 'llama-server'), '#!/bin/sh\necho "llama-server: error while loading shared libraries: libggml.so" >&2\nexit 127\n')
  await t.rejects(obtainPackage(ctxOf(broken, { name: 'llama.cpp' }).ctx, { osRelease: broken.osRelease, isRoot: true }), {
    message: /\(package llama\.cpp b6550-1\) does not run: llama-server --version exited with 127/,
  })
  const cuda = host(t, 'debian', ['apt-get', 'dpkg-query', 'dpkg'], { FAKE_CUDA: '1' })
  t.equal((await obtainPackage(ctxOf(cuda, { name: 'llama.cpp' }, { devices: [0] }).ctx, { osRelease: cuda.osRelease, isRoot: true })).compute_mode, 'gpu',
    'the package owns libggml-cuda.so (under /usr/lib, not beside the binary)')
  const cpu = host(t, 'debian', ['apt-get', 'dpkg-query', 'dpkg'])
  const required = ctxOf(cpu, { name: 'llama.cpp' }, { devices: [0], prov: { compute_policy: 'gpu-required' } })
  await t.rejects(obtainPackage(required.ctx, { osRelease: cpu.osRelease, isRoot: true }), {
    code: 'ORC_ERR_LLAMACPP_GPU_REQUIRED',
    message: /package llama\.cpp b6550-1 has no CUDA backend/,
  })
})

t.test('os-release: ID and ID_LIKE, quoted or not', async (t) => {
  const h = host(t, 'cachyos', [])
  for (const [os, manager] of [['cachyos', 'pacman'], ['arch', 'pacman'], ['ubuntu', 'apt-get'], ['debian', 'apt-get'], ['fedora', null]] as const) {
    writeFileSync(h.osRelease, OS[os])
    t.same(await hostManager(h.osRelease), { manager, host: os }, os)
  }
  writeFileSync(h.osRelease, 'ID=endeavouros\n')
  t.equal((await hostManager(h.osRelease)).manager, 'pacman')
})
