import type { Command } from 'commander';
import type { Deps } from '../deps.js';

/**
 * Each command module exports a factory; adding a command means adding it to program.ts's list.
 * Factories only declare flags and call run*(): the behaviour lives below commands/. Kept out of
 * program.ts so that a command group (replay) can name it without importing the program.
 */
export type CommandFactory = (deps: Deps) => Command;
