// runCommand's `command` is one string: the executable and its arguments separated by commas, with
// `\,` standing for a comma inside an argument (the AWS-Run-Command template's convention). Any other
// backslash is kept as it is, so Windows-style paths and regular expressions pass through untouched.

/** Splits `"exe,arg1,arg\,with comma"` into `['exe', 'arg1', 'arg,with comma']`. Never throws. */
export function splitCommandLine(command: string): string[] {
  const argv: string[] = [];
  let current = '';
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (c === '\\' && command[i + 1] === ',') {
      current += ',';
      i++;
    } else if (c === ',') {
      argv.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  argv.push(current);
  return argv;
}

/** The inverse of splitCommandLine for arguments that do not end with a backslash (a trailing `\`
 *  followed by the separating comma would read as an escaped comma; the format has no way around it). */
export function joinCommandLine(argv: readonly string[]): string {
  return argv.map((a) => a.replaceAll(',', '\\,')).join(',');
}
