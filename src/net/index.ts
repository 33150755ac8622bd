// The net folder's public API: strata's own http(s) requests (ADD https://..., later a
// registry's), trusting the NODE_EXTRA_CA_CERTS that bin/strata defers (see fetch.ts).
export { deferredExtraCaCerts, httpFetch } from './fetch.js';
