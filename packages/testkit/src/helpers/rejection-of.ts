/**
 * Resolves with what `promise` rejects with, so a test can assert on an error's fields
 * (`code`, `message`); rejects if `promise` resolves instead.
 */
export async function rejectionOf<E = unknown>(promise: Promise<unknown>): Promise<E> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => ({ reason }),
  )
  if (error === undefined) throw new Error('expected the promise to reject, but it resolved')
  return error.reason as E
}
