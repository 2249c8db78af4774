import { mkdir, readFile, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../../lib/atomic.js'

/** How far a process's start may lie from its PID file's write for the two to be the same run. */
const SAME_RUN_MS = 10_000
/** Linux USER_HZ: /proc/<pid>/stat counts start times in these ticks. */
const TICKS_PER_S = 100

export interface PidFileDeps {
  /** Wall-clock ms at which `pid` started, or null when it is not running or cannot be told. */
  startedAt?: (pid: number) => Promise<number | null>
  kill?: (pid: number, signal: NodeJS.Signals | 0) => void
  /** This orchestrator's pid (written as the owner). */
  self?: number
}

export interface Orphan { pid: number, killed: boolean, reason: string }

/**
 * PID files of engine processes (spec pools §1.3, §2.4 step 11): `<run_dir>/<pool_id>.pid` holds
 * the pid of the pool's current engine, written atomically when it is spawned and removed when
 * it exits. After a crash of the orchestrator, `reap` finds an engine it left running and stops
 * it, so the new run does not find its port or VRAM taken. `<pool_id>.owner` names the
 * orchestrator that spawned it: while that one lives (another instance sharing the run dir),
 * its engines are left alone. A pid is only killed when that process started when the file
 * was written (pids are reused).
 */
export class PidFiles {
  readonly #dir: string
  readonly #startedAt: (pid: number) => Promise<number | null>
  readonly #kill: (pid: number, signal: NodeJS.Signals | 0) => void
  readonly #self: number

  constructor (dir: string, deps: PidFileDeps = {}) {
    this.#dir = dir
    this.#startedAt = deps.startedAt ?? linuxStartedAt
    this.#kill = deps.kill ?? ((pid, signal) => { process.kill(pid, signal) })
    this.#self = deps.self ?? process.pid
  }

  fileOf (poolId: string): string { return join(this.#dir, `${poolId}.pid`) }
  #ownerOf (poolId: string): string { return join(this.#dir, `${poolId}.owner`) }

  async record (poolId: string, pid: number): Promise<void> {
    await mkdir(this.#dir, { recursive: true })
    await writeFileAtomic(this.#ownerOf(poolId), `${this.#self}\n`)
    await writeFileAtomic(this.fileOf(poolId), `${pid}\n`)
  }

  /** Records a spawned engine's pid and removes it once the engine exits. */
  track (poolId: string, engine: { pid: number | undefined, exited: Promise<unknown> }, onError: (err: Error) => void): void {
    const pid = engine.pid
    if (pid === undefined) return
    const recorded = this.record(poolId, pid).catch(onError)
    void engine.exited.then(async () => { await recorded; await this.clear(poolId, pid) })
  }

  /** Removes the files if they still name `pid` (a newer engine of the pool may have replaced it). */
  async clear (poolId: string, pid: number): Promise<void> {
    if (await readPid(this.fileOf(poolId)) !== pid) return
    await unlink(this.fileOf(poolId)).catch(() => {})
    await unlink(this.#ownerOf(poolId)).catch(() => {})
  }

  /** Stops the engine an earlier run left behind, if it is still that process; removes the files. */
  async reap (poolId: string): Promise<Orphan | null> {
    const file = this.fileOf(poolId)
    const pid = await readPid(file)
    if (pid === null) return null
    const owner = await readPid(this.#ownerOf(poolId))
    if (owner !== null && owner !== this.#self && this.#alive(owner)) return { pid, killed: false, reason: `its orchestrator (pid ${owner}) is still running` }
    const written = (await stat(file).catch(() => null))?.mtimeMs
    const started = await this.#startedAt(pid)
    await unlink(file).catch(() => {})
    await unlink(this.#ownerOf(poolId)).catch(() => {})
    if (started === null) return { pid, killed: false, reason: 'not running, or its start time cannot be read here' }
    if (written === undefined || Math.abs(written - started) > SAME_RUN_MS) return { pid, killed: false, reason: 'the pid now belongs to another process' }
    try {
      this.#kill(pid, 'SIGKILL')
      return { pid, killed: true, reason: 'left running by an earlier run' }
    } catch (err) {
      return { pid, killed: false, reason: (err as Error).message }
    }
  }

  #alive (pid: number): boolean {
    try {
      this.#kill(pid, 0)
      return true
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' // exists, not ours to signal
    }
  }
}

async function readPid (file: string): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => null)
  const pid = text === null ? NaN : Number(text.trim())
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null
}

/** Start time of a process from /proc (Linux); null elsewhere or when it is gone. */
export async function linuxStartedAt (pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[19])
    const btime = Number(/^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8'))?.[1])
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime * 1000 + ticks * 1000 / TICKS_PER_S : null
  } catch {
    return null
  }
}
