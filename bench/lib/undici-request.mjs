// undici's request, imported statically as the command imports undici (src/fetch/undici.ts): the start-up floor
// (bench/contestants/undici-one.mjs) imports this module after it has turned Node's compile cache on. (A dynamic
// import of undici itself would leave esbuild's bundle only its CommonJS `default`.)
export { request } from 'undici';
