import { createHash } from 'node:crypto'
import { LUA_SCRIPTS, type LuaScriptName } from '@tiercache/redis-common'
import type { DataCommands } from './connection/client-handle.js'

const SHAS = new Map(
  Object.entries(LUA_SCRIPTS).map(([name, script]) => [name as LuaScriptName, createHash('sha1').update(script.lua).digest('hex')]),
)

/**
 * Runs one of the store's Lua scripts with `EVALSHA`, falling back to `EVAL` on `NOSCRIPT` (a
 * restarted or failed-over node has an empty script cache; `EVAL` loads it there again). A
 * cluster client routes it by its first key, like any other keyed command.
 */
export function runScript(commands: DataCommands, name: LuaScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
  const options = { keys, arguments: args.map(String) }
  return commands.evalSha(SHAS.get(name) as string, options).catch((error: unknown) => {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return commands.eval(LUA_SCRIPTS[name].lua, options)
    throw error
  })
}
