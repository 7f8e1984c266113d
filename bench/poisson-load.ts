// An open-loop load: requests arrive at random (exponential gaps, i.e. a Poisson process) at `ratePerS` in all,
// spread over up to `clients` connections, whether or not earlier ones have been answered — the way requests
// from many people reading independently arrive. Latency is measured from each request's arrival.
import http from 'node:http';

export interface PoissonLoadResult {
  latenciesMs: number[];
  non2xx: number;
  /** Arrivals that found all clients busy and waited for one (their wait counts in their latency). */
  queued: number;
}

export async function poissonLoad(options: {
  origin: string;
  path: () => string;
  headers: Record<string, string>;
  ratePerS: number;
  durationS: number;
  clients: number;
}): Promise<PoissonLoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients });
  const get = (url: string) =>
    new Promise<number>((resolve, reject) => {
      http
        .get(url, { agent, headers: options.headers }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        })
        .on('error', reject);
    });
  const latenciesMs: number[] = [];
  let non2xx = 0;
  let queued = 0;
  let busy = 0;
  const pending: Promise<void>[] = [];
  const started = performance.now();
  let next = started;
  while (next - started < options.durationS * 1000) {
    const wait = next - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const arrival = next;
    if (busy >= options.clients) queued += 1;
    busy += 1;
    pending.push(
      get(options.origin + options.path())
        .then((status) => {
          if (status < 200 || status >= 300) non2xx += 1;
          latenciesMs.push(performance.now() - arrival);
        })
        .finally(() => {
          busy -= 1;
        }),
    );
    next += (-Math.log(1 - Math.random()) / options.ratePerS) * 1000;
  }
  await Promise.all(pending);
  agent.destroy();
  return { latenciesMs: latenciesMs.sort((a, b) => a - b), non2xx, queued };
}
