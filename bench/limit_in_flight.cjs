// Preloaded into linkinator (node --require) by run_bench.py for the "linkinator (held to the
// limits)" row: linkinator 7.6.1 starts every check before its queue applies --concurrency,
// so this holds Node's fetch itself to BENCH_MAX_IN_FLIGHT requests in flight overall and
// BENCH_PER_ORIGIN connections per origin (linkfresh's concurrency and per_host). It only
// queues requests; it changes nothing in what is sent or how answers are read.
'use strict';
const undici = require('undici');

const maxInFlight = Number(process.env.BENCH_MAX_IN_FLIGHT || 64);
const perOrigin = Number(process.env.BENCH_PER_ORIGIN || 4);
const agent = new undici.Agent({ connections: perOrigin });
const waiting = [];
let inFlight = 0;

function release() {
  inFlight -= 1;
  const next = waiting.shift();
  if (next) next();
}

// The slot is given back when the response ends or fails, whichever handler style undici uses.
const ENDINGS = new Set(['onComplete', 'onError', 'onResponseEnd', 'onResponseError']);

class InFlightLimit extends undici.Dispatcher {
  dispatch(options, handler) {
    const start = () => {
      inFlight += 1;
      let released = false;
      const wrapped = new Proxy(handler, {
        get(target, name) {
          const value = target[name];
          if (typeof value !== 'function') return value;
          if (!ENDINGS.has(name)) return value.bind(target);
          return (...args) => {
            if (!released) {
              released = true;
              release();
            }
            return value.apply(target, args);
          };
        },
      });
      agent.dispatch(options, wrapped);
    };
    if (inFlight < maxInFlight) start();
    else waiting.push(start);
    return true;
  }

  close(...args) {
    return agent.close(...args);
  }

  destroy(...args) {
    return agent.destroy(...args);
  }
}

undici.setGlobalDispatcher(new InFlightLimit());
