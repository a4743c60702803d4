import { request } from 'node:http';

export interface HttpResponse {
  status: number;
  contentType?: string;
  body: string;
}

/** A plain GET without keep-alive (so nothing holds jest open), e.g. httpGet('127.0.0.1:9090', '/metrics'). */
export function httpGet(address: string, path: string): Promise<HttpResponse> {
  const url = new URL(path, `http://${address}`);
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
