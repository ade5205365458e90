/**
 * Parser for a repeatable option: each use adds its value to the list. Declare the option
 * without .default([]) (commander would print "(default: [])" under it) and read it as
 * `flags.x ?? []`.
 */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
