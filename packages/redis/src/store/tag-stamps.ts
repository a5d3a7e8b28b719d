import type { RoutedCommands } from './routed-commands.js'

/**
 * Raises each tag's stamp to `stampMs` (never lowers it), with `ttlMs` to live. One script per
 * tag: tags live on different slots, and each raise is atomic on its own.
 */
export async function stampTags(commands: RoutedCommands, tagKeys: readonly string[], stampMs: number, ttlMs: number): Promise<void> {
  await Promise.all(tagKeys.map((tagKey) => commands.script('tiercacheStampTag', [tagKey, stampMs, ttlMs])))
}
