export { processSeries } from './process-series.js';
