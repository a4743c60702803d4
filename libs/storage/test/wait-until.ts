/** Polls `condition` every 5 ms until it holds; fails with `what()` after `timeoutMs`. (The storage
 * lib may not import @apogee/testing, whose waitFor does the same for the apps.) */
export async function waitUntil(condition: () => boolean, what: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
