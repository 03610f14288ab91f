/** A TCP port free on 127.0.0.1 right now (another process may still take it before it is bound). */
import net from 'node:net';

export async function freePort(exclude: readonly number[] = []): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer().once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    if (!exclude.includes(port)) return port;
  }
}
