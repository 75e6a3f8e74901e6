// The hand-rolled loop the baselines use: a fixed number of async workers pulling from a shared index.
export async function eachWithWorkers(items, workers, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}
