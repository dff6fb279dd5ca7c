'use strict';
// The WebAssembly module for Node (wasm-bindgen's `nodejs` output, which reads the .wasm
// file beside it). Bundlers take lib/wasm-bundler.js instead (package.json "browser").
try {
  module.exports = require('../pkg/node/gbcs_js.js');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND') {
    throw new Error('gbcs: the WebAssembly module is not built: run `npm run build` in ' +
      require('path').resolve(__dirname, '..') + ' (it says what is missing)');
  }
  throw e;
}
