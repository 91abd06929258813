// A tiny HTTP server on loopback that serves one generated file, so the demo's download step
// exercises a real HTTP transfer with a sha256 check.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedFile {
  url: string;
  sha256: string;
  bytes: number;
  close(): Promise<void>;
}

export async function serveFile(name: string, content: Buffer, host = '127.0.0.1'): Promise<ServedFile> {
  const sha256 = createHash('sha256').update(content).digest('hex');
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === `/${name}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': content.length });
      res.end(content);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/${name}`,
    sha256,
    bytes: content.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
