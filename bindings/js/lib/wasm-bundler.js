'use strict';
// The WebAssembly module for bundlers targeting browsers (wasm-bindgen's `bundler` output:
// webpack, Vite and Rollup load the .wasm as an ES module import).
module.exports = require('../pkg/bundler/gbcs_js.js');
