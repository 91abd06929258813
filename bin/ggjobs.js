#!/usr/bin/env node
import { runFromProcess } from '../dist/cli/main.js';

runFromProcess(process.argv).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
