/** Commands whose arguments hold credentials: `AUTH [user] password`, `HELLO 3 AUTH user password`. */
const CREDENTIAL_COMMANDS = new Set(['auth', 'hello'])

/**
 * Blanks the arguments of a failed `AUTH` or `HELLO` that ioredis attached to `error.command`
 * (they hold the password), in place, also in a cluster error's `lastNodeError`; returns `error`.
 *
 * Why in place: ioredis hands the same error object to the client's `error` listeners and to
 * every command it fails with it, and any of them may end up in a log. The store's listener runs
 * first (it is prepended) and synchronously, before any of those rejections is handled.
 */
export function redactCredentials<E>(error: E): E {
  const command = (error as { command?: { name?: unknown; args?: unknown } } | null | undefined)?.command
  if (
    command !== undefined &&
    typeof command.name === 'string' &&
    CREDENTIAL_COMMANDS.has(command.name.toLowerCase()) &&
    Array.isArray(command.args)
  ) {
    command.args = command.args.map(() => '[redacted]')
  }
  const lastNodeError = (error as { lastNodeError?: unknown } | null | undefined)?.lastNodeError
  if (lastNodeError !== undefined && lastNodeError !== error) redactCredentials(lastNodeError)
  return error
}
