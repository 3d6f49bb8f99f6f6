import http from 'node:http';

/**
 * A downstream on 127.0.0.1 whose behaviour the examples switch through its `state`: healthy,
 * failing (mostly 503s, sometimes a dropped connection) or slow (`delayMs` per response).
 */
export async function startDownstream(name) {
  const state = { failing: false, delayMs: 0, hits: 0 };
  const server = http.createServer((req, res) => {
    state.hits++;
    if (state.failing) {
      if (state.hits % 4 === 0) return req.socket.destroy();
      res.statusCode = 503;
      return res.end('unavailable');
    }
    const reply = () => res.end(JSON.stringify({ name, ok: true }));
    if (state.delayMs > 0) setTimeout(reply, state.delayMs);
    else reply();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { name, state, server, url: `http://127.0.0.1:${server.address().port}` };
}

/** `http.get` as a promise of the status code (the body is read and dropped). */
export function httpGet(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject);
  });
}
