// Finds `::progress <text>` lines in a step's stdout as it streams, in bounded memory: a line longer
// than MAX_LINE_CHARS is cut there (the rest of it is ignored), and only lines that start with the
// marker are passed on. The text is handed over as printed; the jobs half sanitizes and bounds it
// before it goes into statusDetails.
import { StringDecoder } from 'node:string_decoder';

export const PROGRESS_MARKER = '::progress ';
/** Longest line kept while looking for the marker; statusDetails values are at most 1,024 anyway. */
export const MAX_LINE_CHARS = 4096;

export class ProgressLineScanner {
  private readonly decoder = new StringDecoder('utf8');
  private line = '';
  private overlong = false;

  constructor(private readonly onProgress: (text: string) => void) {}

  push(chunk: Buffer): void {
    let text = this.decoder.write(chunk);
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n')) {
      this.append(text.slice(0, nl));
      this.endLine();
      text = text.slice(nl + 1);
    }
    this.append(text);
  }

  /** The stream ended: a last line without a newline counts too. */
  end(): void {
    this.append(this.decoder.end());
    if (this.line.length > 0) this.endLine();
  }

  private append(text: string): void {
    if (this.overlong || text.length === 0) return;
    this.line += text;
    if (this.line.length > MAX_LINE_CHARS) {
      this.line = this.line.slice(0, MAX_LINE_CHARS);
      this.overlong = true;
    }
  }

  private endLine(): void {
    const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
    this.line = '';
    this.overlong = false;
    if (!line.startsWith(PROGRESS_MARKER)) return;
    const text = line.slice(PROGRESS_MARKER.length);
    if (text.trim().length === 0) return;
    try {
      this.onProgress(text);
    } catch {
      // Progress is informational: a failing callback never disturbs the step.
    }
  }
}
