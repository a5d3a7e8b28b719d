/** Namespaces and entity names: letters, digits, `_`, `-` and `.`, 1 to 64 of them. */
export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/
