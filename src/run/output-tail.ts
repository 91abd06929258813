// Keeps the end of a process's output stream: the last `limit` characters (what statusDetails can
// carry) and a line count (what allowStdErr is compared with), in bounded memory however much the
// process writes. Bytes are decoded as UTF-8 across chunk boundaries, so a tail never starts with
// half a character.
import { StringDecoder } from 'node:string_decoder';

export const TAIL_CHARS = 1024;

export class OutputTail {
  readonly limit: number;
  private text = '';
  private readonly decoder = new StringDecoder('utf8');
  private newlines = 0;
  private bytes = 0;
  private endsWithNewline = true;

  constructor(limit = TAIL_CHARS) {
    this.limit = limit;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.bytes += chunk.length;
    this.append(this.decoder.write(chunk));
  }

  /** Flushes a trailing partial character (as U+FFFD) once the stream has ended. */
  end(): void {
    this.append(this.decoder.end());
  }

  /** Lines written: newline-terminated ones plus an unterminated last one. */
  get lines(): number {
    return this.newlines + (this.bytes > 0 && !this.endsWithNewline ? 1 : 0);
  }

  get totalBytes(): number {
    return this.bytes;
  }

  /** The last `limit` characters (UTF-16 code units, never splitting a surrogate pair). */
  tail(): string {
    if (this.text.length <= this.limit) return this.text;
    let start = this.text.length - this.limit;
    const code = this.text.charCodeAt(start);
    if (code >= 0xdc00 && code <= 0xdfff) start++;
    return this.text.slice(start);
  }

  private append(s: string): void {
    if (s.length === 0) return;
    for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) this.newlines++;
    this.endsWithNewline = s.endsWith('\n');
    this.text += s;
    // Trim in batches so appending stays linear: keep at most 2 x limit between trims.
    if (this.text.length > 2 * this.limit) this.text = this.text.slice(this.text.length - this.limit - 1);
  }
}
