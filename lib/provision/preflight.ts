/**
 * Preflight (spec pools §2.3, ORCH-3202..3204): every tool a plan needs, checked before any
 * step runs, and a missing one named with the package that provides it on Debian and on
 * Arch-like systems, so the message says exactly what to install.
 */
import { which } from './command.js'

export interface ToolSpec {
  /** Executable names that satisfy the need, the first found wins (`ninja` or `make`). */
  names: readonly string[]
  /** Why the plan needs it, for the message. */
  why: string
  debian: string
  arch: string
}

/**
 * The tools engine providers ask for, by the name a plan uses. (The model provisioner's tools,
 * huggingface-cli, aws and oras, are checked where it runs them: plugins/models/tools.ts.)
 */
export const TOOLS = {
  git: { names: ['git'], why: 'to fetch the llama.cpp source', debian: 'git', arch: 'git' },
  cmake: { names: ['cmake'], why: 'to configure the build', debian: 'cmake', arch: 'cmake' },
  'build-tool': { names: ['ninja', 'make'], why: 'to run the build', debian: 'ninja-build', arch: 'ninja' },
  compiler: { names: ['c++', 'g++', 'clang++'], why: 'to compile llama.cpp', debian: 'g++', arch: 'gcc' },
  tar: { names: ['tar'], why: 'to unpack a downloaded engine', debian: 'tar', arch: 'tar' },
  unzip: { names: ['unzip'], why: 'to unpack a downloaded .zip engine', debian: 'unzip', arch: 'unzip' },
  container: { names: ['podman', 'docker'], why: 'to run the engine container', debian: 'podman', arch: 'podman' },
} as const satisfies Record<string, ToolSpec>

export type ToolName = keyof typeof TOOLS

export interface ToolCheck { tool: ToolName, found: string | null, spec: ToolSpec }

/** Finds each tool on PATH; `found` is the path of the first name that exists. */
export async function findTools (tools: readonly ToolName[], env: NodeJS.ProcessEnv = process.env): Promise<ToolCheck[]> {
  return await Promise.all(tools.map(async (tool) => {
    const spec: ToolSpec = TOOLS[tool]
    for (const name of spec.names) {
      const found = await which(name, env)
      if (found) return { tool, found, spec }
    }
    return { tool, found: null, spec }
  }))
}

/** One line per missing tool: what it is for and how to install it. */
export function describeMissing (missing: readonly ToolCheck[]): string {
  return missing.map((m) =>
    `${m.spec.names.join(' or ')} (${m.spec.why}; Debian: apt-get install ${m.spec.debian}, Arch: pacman -S ${m.spec.arch})`
  ).join('; ')
}
