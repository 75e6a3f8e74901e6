// The parse task of bench/keep-handoff.mjs: the real parser (dist/parse/worker.js), and optionally the page's
// bytes handed back to the main thread (transferred, not copied) along with the fields.
import Piscina from 'piscina';
import parsePages from '../../dist/parse/worker.js';

export default function task({ pages, spec, handBack }) {
  const reply = parsePages({ pages, spec });
  if (!handBack) return reply;
  const bodies = pages.map((p) => p.body.buffer);
  return Piscina.move({
    get [Piscina.transferableSymbol]() {
      return bodies;
    },
    get [Piscina.valueSymbol]() {
      return { ...reply, bodies };
    },
  });
}
