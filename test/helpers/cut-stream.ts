/** A ReadableStream delivering `bytes` cut at the given offsets (out-of-range cuts ignored). */
export function cutStream(bytes: Uint8Array, cuts: number[] = []): ReadableStream<Uint8Array> {
  const points = [0, ...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length];
  let i = 0;
  return new ReadableStream({
    pull(ctrl) {
      if (i >= points.length - 1) ctrl.close();
      else {
        ctrl.enqueue(bytes.slice(points[i], points[i + 1]));
        i++;
      }
    },
  });
}
