import { spawn } from 'node:child_process'
import { which } from '../../lib/provision/command.js'
import { ModelError } from './errors.js'

export interface RunResult { code: number | null, stdout: string, stderr: string }

/** How external tools run; tests inject a fake that records calls. */
export interface CommandRunner {
  run (cmd: string, args: string[], o: { env: NodeJS.ProcessEnv, cwd?: string, signal?: AbortSignal }): Promise<RunResult>
  /** Absolute path of `cmd` on PATH, or null. */
  which (cmd: string): Promise<string | null>
}

const TAIL = 4000

export const systemRunner: CommandRunner = {
  run (cmd, args, o) {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { env: o.env, cwd: o.cwd, signal: o.signal, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => { stdout = (stdout + String(d)).slice(-TAIL) })
      child.stderr.on('data', (d) => { stderr = (stderr + String(d)).slice(-TAIL) })
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stdout, stderr }))
    })
  },
  which: async (cmd) => await which(cmd),
}

/** What each scheme needs, and how to get it (ORCH-3705: the provisioner never installs anything). */
export const TOOL_HINTS = {
  'huggingface-cli': 'install python-huggingface-hub (pip install "huggingface_hub[cli,hf_transfer]"), ' +
    'turn catalog.fetch.hf_cli off to use the built-in downloader, or use a file: ref',
  aws: 'install the AWS CLI (pip install awscli, or your distribution\'s awscli package), or stage the files yourself and use a file: ref',
  oras: 'install oras (https://oras.land/docs/installation), or stage the files yourself and use a file: ref',
} as const

export type Tool = keyof typeof TOOL_HINTS

/** Preflight: the tool's path, or ToolMissing naming it and how to install it. */
export async function requireTool (runner: CommandRunner, tool: Tool, what: string): Promise<string> {
  const path = await runner.which(tool)
  if (path === null) throw new ModelError('ToolMissing', `${what} needs the ${tool} command, which is not on PATH; ${TOOL_HINTS[tool]}`, { tool })
  return path
}

/** Runs a fetch tool; a non-zero exit is FetchFailed with the tail of its output. */
export async function runTool (runner: CommandRunner, cmd: string, args: string[], env: NodeJS.ProcessEnv, what: string, signal?: AbortSignal): Promise<void> {
  const res = await runner.run(cmd, args, { env, ...(signal ? { signal } : {}) })
  if (res.code !== 0) {
    const out = `${res.stderr}\n${res.stdout}`.trim().split('\n').slice(-5).join(' | ')
    throw new ModelError('FetchFailed', `${what}: ${cmd} exited with ${res.code}: ${out}`, { tool: cmd })
  }
}
