#!/usr/bin/env node
import { run } from '../dist/cli/entry.js';

run(process.argv).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
