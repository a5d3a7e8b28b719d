import { type Cluster, Command } from 'ioredis'

/**
 * Errors a cluster command can reject with while slots move, although ioredis follows redirections
 * for a command sent on its own: with auto-pipelining, commands bound for one node travel as one
 * pipeline, and ioredis re-sends a pipeline only when every failed command got the very same
 * redirection and every command that succeeded was read-only. While a slot migrates that is
 * rarely so (ASK names its slot; a write next to it succeeded), so each redirected command of the
 * batch rejects with the raw `MOVED`/`ASK`/`TRYAGAIN` reply, or with ioredis's complaint about a
 * batch whose keys the slot map now splits.
 */
const REDIRECTED = /^(MOVED|ASK|TRYAGAIN) |same slots allocation group/

/**
 * Re-sends a command whose auto-pipelined batch came back redirected, on its own through the
 * cluster's router (`sendCommand`), which follows MOVED (refreshing the slot map), ASK (with
 * ASKING) and TRYAGAIN (after `retryDelayOnTryAgain`). Any other error is rethrown, as is
 * everything on a standalone client (`cluster` undefined). Without this, a delete redirected this
 * way rejected, the engine queued it for a retry a second later and `invalidate()` resolved while
 * the old value was still in Redis: the old values read right after an invalidation during a
 * reshard (issue 16).
 */
export function resendRedirected(cluster: Cluster | undefined, error: unknown, name: string, args: (string | number)[]): Promise<unknown> {
  if (cluster === undefined || !(error instanceof Error) || !REDIRECTED.test(error.message)) return Promise.reject(error)
  const command = new Command(name, args, { replyEncoding: 'utf8' })
  cluster.sendCommand(command)
  return command.promise
}
