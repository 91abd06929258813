import type { Command } from 'commander';
import type { CliIo, CommandResult } from '../main.js';

// Placeholder until src/local lands (issue 2); replaced by the real `ggjobs local`.
export function registerLocal(_program: Command, _io: CliIo, _result: CommandResult): void {}
