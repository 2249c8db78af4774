/**
 * System package installs (spec pools §2.3 decision ladder, ORCH-3434, D9): what the host's
 * package manager has installed, and installing what is missing when the policy allows it.
 * Only pacman (Arch-like hosts, with paru or yay for AUR packages) and apt-get (Debian-like);
 * never an interactive prompt (`sudo -n`, stdin closed), never another installer. Every
 * refusal names the exact command, so the operator can run it by hand.
 */
import type { WriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { runTool, which, type RunResult } from '../../lib/provision/command.js'
import { ORC_ERR_LLAMACPP_PACKAGE } from './errors.js'

export type PackageManager = 'pacman' | 'apt-get'

/** A package to install: a name, optionally a version (apt-get only installs a pinned one) and a repo. */
export interface PackageSpec {
  name: string
  version?: string | null
  /** pacman: the sync repo (`extra/NAME`); apt-get: the target release (`-t bookworm-backports`). */
  repo?: string | null
}

export interface InstallOptions {
  pool: string
  /** The effective `allow_package_installs` (deployment policy narrowed by the pool's own). */
  allow: boolean
  env: NodeJS.ProcessEnv
  /** Default `/etc/os-release`. */
  osRelease?: string
  /** Default: the effective uid is 0. */
  isRoot?: boolean
  log?: WriteStream
  onLine?: (line: string) => void
  signal?: AbortSignal
}

export interface Installed {
  manager: PackageManager
  /** Absolute path of the package manager's executable. */
  managerPath: string
  /** What this call installed (empty: everything was there already). */
  installed: string[]
  /** Installed version of every requested package, after the install. */
  versions: Record<string, string>
}

const ARCH_LIKE = ['arch', 'cachyos', 'endeavouros']
const DEBIAN_LIKE = ['debian', 'ubuntu']

/** The manager os-release's ID and ID_LIKE point to, and the host's name for messages. */
export async function hostManager (osRelease = '/etc/os-release'): Promise<{ manager: PackageManager | null, host: string }> {
  const text = await readFile(osRelease, 'utf8').catch(() => null)
  if (text === null) return { manager: null, host: `no ${osRelease}` }
  const field = (key: string): string => (new RegExp(`^${key}=["']?([^"'\\n]*)`, 'm').exec(text)?.[1] ?? '').toLowerCase()
  const ids = [field('ID'), ...field('ID_LIKE').split(/\s+/)].filter((x) => x !== '')
  const host = field('ID') || 'unknown'
  if (ids.some((id) => ARCH_LIKE.includes(id))) return { manager: 'pacman', host }
  if (ids.some((id) => DEBIAN_LIKE.includes(id))) return { manager: 'apt-get', host }
  return { manager: null, host }
}

const specOf = (p: string | PackageSpec): PackageSpec => typeof p === 'string' ? { name: p } : p
const label = (p: PackageSpec): string => p.version ? `${p.name} ${p.version}` : p.name

async function output (cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null, lines: string[] }> {
  const lines: string[] = []
  const r = await runTool(cmd, args, { env, onLine: (l) => { lines.push(l) } })
  return { code: r.code, lines }
}

/** The installed version of `name`, or null when it is not installed. */
export async function installedVersion (manager: PackageManager, name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  if (manager === 'pacman') {
    const r = await output('pacman', ['-Q', name], env)
    const [got, version] = (r.lines[0] ?? '').trim().split(/\s+/)
    return r.code === 0 && got === name && version ? version : null
  }
  // the status too: a removed package whose config files remain still has a Version
  // eslint-disable-next-line no-template-curly-in-string -- dpkg-query's own field syntax, not a template
  const r = await output('dpkg-query', ['-W', '-f=${db:Status-Status} ${Version}', name], env)
  const m = /^installed (\S+)/.exec(r.lines[0]?.trim() ?? '')
  return r.code === 0 && m ? m[1]! : null
}

/** The files an installed package owns (empty when the manager cannot say). */
export async function packageFiles (manager: PackageManager, name: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const r = manager === 'pacman' ? await output('pacman', ['-Ql', name], env) : await output('dpkg', ['-L', name], env)
  if (r.code !== 0) return []
  return r.lines.map((l) => (manager === 'pacman' ? l.slice(l.indexOf(' ') + 1) : l).trim()).filter((l) => l.startsWith('/'))
}

/** The install arguments (after the manager's name), as root runs them. */
function installArgs (manager: PackageManager, pkgs: PackageSpec[]): string[] {
  if (manager === 'pacman') return ['-S', '--needed', '--noconfirm', ...pkgs.map((p) => p.repo ? `${p.repo}/${p.name}` : p.name)]
  const releases = [...new Set(pkgs.flatMap((p) => p.repo ? [p.repo] : []))]
  return ['install', '-y', '--no-install-recommends', ...releases.flatMap((r) => ['-t', r]), ...pkgs.map((p) => p.version ? `${p.name}=${p.version}` : p.name)]
}

const lastLine = (tail: string): string => tail.split('\n').filter((l) => l.trim() !== '').pop()?.trim().slice(0, 300) ?? 'no output'

/**
 * Makes sure every package is installed (at its version, when one is given), installing the
 * missing ones when `allow` is true, and returns what is installed. Throws
 * ORC_ERR_LLAMACPP_PACKAGE, naming the setting or the command, when it cannot.
 */
export async function installSystemPackages (pkgs: ReadonlyArray<string | PackageSpec>, o: InstallOptions): Promise<Installed> {
  const specs = pkgs.map(specOf)
  const fail: (why: string) => never = (why) => { throw new ORC_ERR_LLAMACPP_PACKAGE(o.pool, why) }
  const { manager, host } = await hostManager(o.osRelease)
  const managerPath = manager === null ? null : await which(manager, o.env)
  if (manager === null || managerPath === null || (manager === 'apt-get' && await which('dpkg-query', o.env) === null)) {
    fail(`automatic installs work on Arch-like hosts (pacman) and Debian-like hosts (apt-get), and this host (${host}` +
      `${manager !== null ? `, without ${manager} on PATH` : ''}) is neither; install by hand: ${specs.map(label).join(', ')}`)
  }
  const versions: Record<string, string> = {}
  const missing: PackageSpec[] = []
  for (const p of specs) {
    const v = await installedVersion(manager, p.name, o.env)
    if (v !== null) versions[p.name] = v
    if (v === null || (p.version && v !== p.version)) missing.push(p)
  }
  if (missing.length === 0) return { manager, managerPath, installed: [], versions }
  const wanted = missing.map(label).join(', ')
  const pinned = manager === 'pacman' ? missing.find((p) => p.version) : undefined
  if (pinned) {
    const have = versions[pinned.name]
    fail(`${label(pinned)} is wanted and ${have ? `${have} is installed` : 'it is not installed'}; pacman cannot install a chosen version: ` +
      `install ${label(pinned)} by hand (pacman -U with its package file), or remove provisioning.package.version`)
  }
  const root = o.isRoot ?? process.getuid?.() === 0
  const args = installArgs(manager, missing)
  const byHand = `${root ? '' : 'sudo '}${manager} ${args.join(' ')}`
  if (!o.allow) {
    fail(`${wanted} not installed, and package installs are not allowed; set policy.allow_package_installs: true in the manifest ` +
      `(and leave this pool's provisioning.allow_package_installs unset or true), or install by hand: ${byHand}`)
  }
  const sudo = root ? null : await which('sudo', o.env)
  if (!root && sudo === null) fail(`installing ${wanted} needs root, and sudo is not on PATH; run as root: ${manager} ${args.join(' ')}`)
  const env: NodeJS.ProcessEnv = manager === 'apt-get' ? { ...o.env, DEBIAN_FRONTEND: 'noninteractive' } : o.env
  const exec = async (cmd: string, argv: string[]): Promise<RunResult> =>
    await runTool(cmd, argv, { env, ...(o.log ? { log: o.log } : {}), ...(o.onLine ? { onLine: o.onLine } : {}), ...(o.signal ? { signal: o.signal } : {}) })
  // -n: sudo fails rather than asks for a password; sudo resets the env, so apt's frontend goes on its command line
  const asRoot = async (argv: string[]): Promise<RunResult> => sudo === null
    ? await exec(managerPath, argv)
    : await exec(sudo, ['-n', ...(manager === 'apt-get' ? ['DEBIAN_FRONTEND=noninteractive'] : []), managerPath, ...argv])
  let ran = byHand
  let r = await asRoot(args)
  if (r.code !== 0 && manager === 'apt-get' && /Unable to locate package|has no installation candidate/.test(r.tail)) {
    // a fresh host (a container) has no package lists yet
    if ((await asRoot(['update'])).code === 0) r = await asRoot(args)
  }
  if (r.code !== 0 && manager === 'pacman' && /target not found/.test(r.tail)) {
    const helper = root ? null : await which('paru', o.env) ?? await which('yay', o.env)
    if (helper === null) {
      fail(`${wanted}: not in the pacman repositories (${lastLine(r.tail)}); ` +
        `${root ? 'an AUR helper must run as a normal user, not root' : 'no AUR helper (paru, yay) is on PATH'}: ` +
        `install by hand, e.g. paru -S ${missing.map((p) => p.name).join(' ')}`)
    }
    // the helper builds as this user and elevates itself; --sudoflags=-n keeps that elevation non-interactive too
    const aur = ['-S', '--needed', '--noconfirm', '--sudoflags=-n', ...missing.map((p) => p.name)]
    ran = `${basename(helper)} ${aur.join(' ')}`
    r = await exec(helper, aur)
  }
  if (r.code !== 0) {
    const password = /password is required|terminal is required/.test(r.tail) ? ' (sudo wants a password: allow this user passwordless sudo for the package manager)' : ''
    fail(`${ran} exited with status ${r.code ?? r.signal}: ${lastLine(r.tail)}${password}; install by hand: ${ran}`)
  }
  for (const p of missing) {
    const v = await installedVersion(manager, p.name, o.env)
    if (v === null || (p.version && v !== p.version)) fail(`${ran} succeeded, but ${label(p)} is still not installed (found: ${v ?? 'none'})`)
    versions[p.name] = v
  }
  return { manager, managerPath, installed: missing.map((p) => p.name), versions }
}
