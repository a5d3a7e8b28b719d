import type { Cluster, Redis } from 'ioredis'
import { absorbLateSocketErrors } from '../late-socket-errors.js'
import { redactCredentials } from '../redact-credentials.js'

/**
 * Listens to the client's errors before anyone else. Every failure already reaches the caller of
 * the command that hit it (the core counts and logs them); without a listener, ioredis would also
 * print each connection error of a client the store created to stderr. The listener blanks the
 * password a failed AUTH/HELLO carries before any other listener sees it.
 */
export function quietErrors(client: Redis | Cluster, ownsClient: boolean): void {
  if (ownsClient) client.prependListener('error', redactCredentials)
  client.prependListener('node error', redactCredentials)
}

/** Quits a client the store created; disconnects it when QUIT fails (the connection is already gone), so nothing is left open. */
export async function quitClient(client: Redis | Cluster): Promise<void> {
  absorbLateSocketErrors(client)
  try {
    await client.quit()
  } catch {
    client.disconnect()
  }
}
